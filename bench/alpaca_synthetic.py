"""A fake Alpaca history server that makes minute bars up on request (holds none in memory).

    python bench/alpaca_synthetic.py SYMBOLS DAYS   # prints its port, serves until killed

GET /v2/stocks/bars answers as Alpaca does (`{"bars": {SYM: [...]}, "next_page_token"}`, pages
of at most 10,000 bars ordered by symbol then time, keys checked): SYMBOLS symbols (S000, ...)
x DAYS weekdays x 390 regular-session minutes, so any size can be served at constant memory.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

KEY, SECRET = "bench-key", "bench-secret"
MINUTES = 390
FIRST_DAY = datetime(2023, 1, 2, 14, 30, tzinfo=UTC)


def weekdays(n: int) -> list[datetime]:
    """The session opens of the first `n` weekdays from FIRST_DAY."""
    out, day = [], FIRST_DAY
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


class Market:
    """`symbols` x `days` x 390 minute bars, bar k of a symbol computed from k alone."""

    def __init__(self, symbols: int, days: int) -> None:
        self.symbols = [f"S{i:03d}" for i in range(symbols)]
        self.opens = weekdays(days)
        self.per_symbol = days * MINUTES

    def bar(self, s: int, k: int) -> dict[str, Any]:
        at = self.opens[k // MINUTES] + timedelta(minutes=k % MINUTES)
        price = 100.0 + s + (k % 997) * 0.01
        return {"t": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "o": price, "h": price + 0.05, "l": price - 0.05,
                "c": price + 0.01, "v": 100 + k % 50, "n": 10 + k % 7, "vw": price + 0.002}

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        wanted = sorted(query["symbols"][0].split(","))
        index = [self.symbols.index(s) for s in wanted if s in self.symbols]
        limit = min(int(query.get("limit", ["10000"])[0]), 10_000)
        offset = int(query.get("page_token", ["0"])[0] or 0)
        total = len(index) * self.per_symbol
        bars: dict[str, list[dict[str, Any]]] = {}
        for n in range(offset, min(offset + limit, total)):
            s, k = index[n // self.per_symbol], n % self.per_symbol
            bars.setdefault(self.symbols[s], []).append(self.bar(s, k))
        more = offset + limit < total
        return {"bars": bars, "next_page_token": str(offset + limit) if more else None}


def serve(market: Market) -> ThreadingHTTPServer:
    """An HTTP server for `market` on a free port of 127.0.0.1 (not yet serving)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            ok = self.headers.get("APCA-API-KEY-ID") == KEY and self.headers.get("APCA-API-SECRET-KEY") == SECRET
            status, body = (200, market.page(parse_qs(url.query))) if ok else (403, {"message": "forbidden"})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


if __name__ == "__main__":
    server = serve(Market(int(sys.argv[1]), int(sys.argv[2])))
    print(server.server_port, flush=True)
    server.serve_forever()
