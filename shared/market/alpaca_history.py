"""Alpaca bar history into `market_data.bars`, page by page, in bounded memory.

alpaca-py's `get_stock_bars` follows `next_page_token` itself and returns the whole download as
models (~1.7 KB a bar), so 100 symbols x 2 years of minute bars would not fit in memory. Here
each page (at most 10,000 bars) is fetched through the same client (its headers, retries on
429 and errors), turned straight into columns, and written as soon as `batch_rows` bars are
waiting; memory holds one page and one batch whatever the range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.market.bars import hash_bar_values

PAGE_LIMIT = 10_000  # Alpaca's maximum page
BATCH_ROWS = 50_000
COLUMNS = ("symbol", "timeframe", "timestamp", "open", "high", "low", "close", "volume", "trade_count",
           "vwap", "source", "data_hash", "ingested_at")

Columns = dict[str, list[Any]]


def pages(client: Any, symbols: Sequence[str], start: datetime, end: datetime, timeframe: str,
          feed: str) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Yield each page's `{symbol: [alpaca bar dicts]}` as it arrives."""
    from alpaca.data.enums import DataFeed
    from alpaca.data.requests import StockBarsRequest
    from alpaca.data.timeframe import TimeFrame

    request = StockBarsRequest(symbol_or_symbols=list(symbols), start=start, end=end, feed=DataFeed(feed),
                               timeframe=TimeFrame.Day if timeframe == "1Day" else TimeFrame.Minute)
    params = request.to_request_fields()
    token = None
    while True:
        params["limit"], params["page_token"] = PAGE_LIMIT, token
        response = client.get("/stocks/bars", params)
        yield response.get("bars") or {}
        token = response.get("next_page_token")
        if not token:
            return


def to_columns(page: dict[str, list[dict[str, Any]]], timeframe: str, source: str,
               ingested_at: datetime, out: Columns | None = None) -> Columns:
    """Append one page's bars to `out` as `market_data.bars` columns, hashes included."""
    out = out if out is not None else {name: [] for name in COLUMNS}
    cols = [out[name] for name in COLUMNS]
    (symbols, timeframes, times, opens, highs, lows, closes, volumes, counts, vwaps, sources, hashes,
     ingested) = cols
    for symbol, bars in page.items():
        for b in bars:
            # The same values alpaca-py's Bar model gives, so data_hash equals the ingester's.
            at = datetime.fromisoformat(b["t"]).astimezone(UTC)
            o, h, lo, c, v = float(b["o"]), float(b["h"]), float(b["l"]), float(b["c"]), float(b["v"])
            n, vw = b.get("n"), b.get("vw")
            n = None if n is None else int(n)
            vw = None if vw is None else float(vw)
            symbols.append(symbol)
            times.append(at)
            opens.append(o)
            highs.append(h)
            lows.append(lo)
            closes.append(c)
            volumes.append(v)
            counts.append(n)
            vwaps.append(vw)
            hashes.append(hash_bar_values(symbol, timeframe, at, o, h, lo, c, v, n, vw))
    added = len(symbols) - len(timeframes)
    timeframes.extend([timeframe] * added)
    sources.extend([source] * added)
    ingested.extend([ingested_at] * added)
    return out


def load(warehouse: Any, client: Any, symbols: Sequence[str], start: datetime, end: datetime,
         timeframe: str, feed: str, *, batch_rows: int = BATCH_ROWS) -> int:
    """Stream the history into the warehouse; return how many bars were written."""
    ingested_at = datetime.now(UTC)
    written = 0
    batch: Columns | None = None
    for page in pages(client, symbols, start, end, timeframe, feed):
        batch = to_columns(page, timeframe, f"alpaca-{feed}", ingested_at, batch)
        if len(batch["symbol"]) >= batch_rows:
            written += _write(warehouse, batch)
            batch = None
    if batch is not None:
        written += _write(warehouse, batch)
    return written


def _write(warehouse: Any, columns: Columns) -> int:
    n = len(columns["symbol"])
    if not n:
        return 0
    insert_batch = getattr(warehouse, "insert_batch", None)
    if insert_batch is not None:
        insert_batch("market_data.bars", columns)
    else:  # a warehouse without the columnar call takes rows
        warehouse.insert_rows("market_data.bars", [dict(zip(columns, values, strict=True))
                                                  for values in zip(*columns.values(), strict=True)])
    return n
