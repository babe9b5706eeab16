"""`farm replay`: serve replayed market data over Alpaca's WebSocket protocol.

    farm replay --port 8765 [--symbols AAPL,MSFT] [--speed 60] [--start 2024-01-02] [--source synthetic]

Streams at ws://127.0.0.1:PORT/v2/iex (also /v2/sip), /v1beta3/crypto/us and /v1beta1/news.
`--speed` is market minutes per wall-clock minute (0: as fast as the client reads).
`--source warehouse` replays 1-minute bars stored in market_data.bars instead of synthetic ones.
Closed market hours (nights, weekends) are skipped unless `--wait-closed` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, date, datetime, timedelta

NAME = "replay"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `replay` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="run the Alpaca-protocol replay server", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--symbols", default="", help="comma-separated symbols the server offers (default: any)")
    parser.add_argument("--speed", type=float, default=60.0, help="market minutes per minute (default 60; 0 = max)")
    parser.add_argument("--start", type=date.fromisoformat, default=None, help="first day (default: last business day)")
    parser.add_argument("--days", type=int, default=None, help="days to replay (default: forever)")
    parser.add_argument("--source", choices=("synthetic", "warehouse"), default="synthetic")
    parser.add_argument("--wait-closed", action="store_true",
                        help="wait out closed market hours at replay speed instead of skipping them")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    from shared.errors import InvalidInputError
    from shared.venues.simulated.market_data import ReplayServer
    from shared.venues.simulated.timelines import (
        SyntheticTimeline,
        Timeline,
        WarehouseTimeline,
        last_business_day,
    )

    if args.speed < 0:
        raise InvalidInputError(f"--speed must be >= 0, got {args.speed}")
    start = args.start or last_business_day()
    end = None if args.days is None else start + timedelta(days=args.days)
    platform = None
    if args.source == "warehouse":
        from shared.app import Application

        platform = Application()
        stop_at = datetime.combine(end, datetime.min.time(), UTC) if end else datetime.now(UTC)
        timeline: Timeline = WarehouseTimeline(platform.warehouse, datetime.combine(start, datetime.min.time(), UTC),
                                               stop_at)
    else:
        timeline = SyntheticTimeline(start, end=end)
    offered = tuple(s.strip() for s in args.symbols.split(",") if s.strip())
    server = ReplayServer(timeline, host=args.host, port=args.port, speed=args.speed, offered=offered or None,
                          skip_closed=not args.wait_closed)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        print(f"farm replay: {args.source} bars from {start} at {server.url}/v2/iex, "
              f"{server.url}/v1beta3/crypto/us, {server.url}/v1beta1/news (speed {args.speed:g}x)", flush=True)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())
    if platform is not None:
        platform.close()
    print("farm replay: stopped", flush=True)
    return 0
