"""A local fake of Alpaca's market-data REST API: GET /v2/stocks/bars, as alpaca-py calls it.

Real HTTP on 127.0.0.1, Alpaca's JSON (`{"bars": {SYM: [{t,o,h,l,c,v,n,vw}]}, "next_page_token"}`),
pagination by `limit` and `page_token`, and 401/403 for missing or wrong keys. Bars are served
from what the test puts in `bars` (symbol -> list of Alpaca bar dicts, sorted by `t`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.json_http import JsonHandler, serve, stop

KEY, SECRET = "test-key", "test-secret"


class FakeAlpacaRest:
    """Serve bars until `close()`; `requests` records every (path, query) received."""

    def __init__(self, bars: dict[str, list[dict[str, Any]]], *, page_size: int = 10_000) -> None:
        self.bars = bars
        self.page_size = page_size  # Alpaca caps a page at 10,000 bars whatever `limit` says
        self.requests: list[dict[str, list[str]]] = []
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.requests.append(query)
                if self.headers.get("APCA-API-KEY-ID") != KEY or self.headers.get("APCA-API-SECRET-KEY") != SECRET:
                    return self.send_json(403, {"message": "forbidden"})
                if url.path != "/v2/stocks/bars":
                    return self.send_json(404, {"message": "not found"})
                self.send_json(200, fake.page(query))

        self.server, self.thread = serve(Handler)

    @property
    def url(self) -> str:
        """The base URL to give alpaca-py as `url_override`."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """One page of bars in Alpaca's order (by symbol, then time) and the next page's token."""
        symbols = sorted(query["symbols"][0].split(","))
        start, end = query.get("start", [""])[0], query.get("end", ["9999"])[0]
        limit = min(int(query.get("limit", ["10000"])[0]), self.page_size)
        rows = [(s, b) for s in symbols for b in self.bars.get(s, []) if start <= b["t"] <= end]
        offset = int(query.get("page_token", ["0"])[0])
        chunk = rows[offset : offset + limit]
        out: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in chunk:
            out.setdefault(symbol, []).append(bar)
        more = offset + limit < len(rows)
        return {"bars": out, "next_page_token": str(offset + limit) if more else None}

    def close(self) -> None:
        """Stop serving."""
        stop(self.server, self.thread)
