"""`farm data`: put historical bars into `market_data.bars`.

    farm data synth  [--symbols AAPL,MSFT] [--start 2023-01-01] [--end 2025-01-01] [--timeframe 1Day|1Min]
    farm data alpaca --symbols AAPL,MSFT --start 2024-01-01 --end 2024-06-01 [--timeframe 1Day] [--feed iex]
    farm data repair

`synth` writes the deterministic synthetic market (rows labelled source="synthetic"); its
defaults are the platform universe and the last two years. `alpaca` pulls real history with
alpaca-py's StockHistoricalDataClient, keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY and the
base URL from APCA_API_DATA_URL (default: Alpaca's); pages are written as they arrive, so memory
stays bounded whatever the range. `repair` moves damaged local warehouse segments aside (the
way out that `farm up` names when it finds one).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from shared.errors import InvalidInputError

NAME = "data"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `farm data synth|alpaca`."""
    parser = subparsers.add_parser(NAME, help="load historical bars", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sources = parser.add_subparsers(dest="source", required=True)
    synth = sources.add_parser("synth", help="write the synthetic market")
    alpaca = sources.add_parser("alpaca", help="pull history from Alpaca")
    sources.add_parser("repair", help="move damaged local warehouse segments aside")
    for sub, required in ((synth, False), (alpaca, True)):
        sub.add_argument("--symbols", type=_symbols, required=required, help="comma-separated")
        sub.add_argument("--start", type=_date, required=required, help="YYYY-MM-DD (inclusive)")
        sub.add_argument("--end", type=_date, required=required, help="YYYY-MM-DD (exclusive)")
        sub.add_argument("--timeframe", choices=("1Day", "1Min"), default="1Day")
    alpaca.add_argument("--feed", choices=("iex", "sip"), default="iex")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the bars and say how many."""
    from shared.app import Application

    with Application() as platform:
        if args.source == "repair":  # before ensure_tables, which refuses a damaged warehouse
            return repair(platform.warehouse)
        platform.warehouse.ensure_tables()
        if args.source == "synth":
            written = synth(platform.warehouse, args.symbols, args.start, args.end, args.timeframe)
            label = "synthetic"
        else:
            written = pull_alpaca(platform.warehouse, args.symbols, args.start, args.end, args.timeframe,
                                  feed=args.feed)
            label = f"alpaca-{args.feed}"
    print(f"farm data: wrote {written} {label} {args.timeframe} bars to market_data.bars")
    return 0


def synth(warehouse: Any, symbols: Sequence[str] | None, start: datetime | None, end: datetime | None,
          timeframe: str = "1Day") -> int:
    """Write the synthetic market (defaults: the platform universe over the last two years)."""
    from shared.market.synthetic import write_synthetic_market
    from shared.market.universe import DEFAULT_SYMBOLS, default_window

    default_start, default_end = default_window()
    return write_synthetic_market(warehouse, symbols or DEFAULT_SYMBOLS, start or default_start,
                                  end or default_end, timeframe)


def pull_alpaca(warehouse: Any, symbols: Sequence[str], start: datetime, end: datetime, timeframe: str = "1Day",
                *, feed: str = "iex", url: str | None = None) -> int:
    """Stream bars from Alpaca page by page into the warehouse (bounded memory); return the count."""
    from alpaca.common.exceptions import APIError
    from alpaca.data.historical import StockHistoricalDataClient

    from shared.errors import AuthenticationError
    from shared.market import alpaca_history

    key, secret = os.environ.get("APCA_API_KEY_ID"), os.environ.get("APCA_API_SECRET_KEY")
    if not key or not secret:
        raise AuthenticationError("set APCA_API_KEY_ID and APCA_API_SECRET_KEY to pull from Alpaca")
    client = StockHistoricalDataClient(key, secret, url_override=url or os.environ.get("APCA_API_DATA_URL"))
    try:
        return alpaca_history.load(warehouse, client, symbols, start, end, timeframe, feed)
    except APIError as exc:
        raise InvalidInputError(f"Alpaca refused the request: {exc}") from exc


def repair(warehouse: Any) -> int:
    """Move damaged warehouse segments aside and say where; 0 when there were none."""
    fix = getattr(warehouse, "repair", None)
    if fix is None:
        print("farm data repair: this backend's warehouse has no local files to repair")
        return 0
    moved = fix()
    for path in moved:
        print(f"farm data repair: moved damaged segment to {path} (its rows are no longer queried)")
    warehouse.ensure_tables()
    print(f"farm data repair: {len(moved)} damaged segment(s) moved aside; the warehouse opens cleanly")
    return 0


def _symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise argparse.ArgumentTypeError("give at least one symbol")
    return symbols


def _date(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
