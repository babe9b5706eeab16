"""`farm up`: run the local stack (every function at its route, triggers wired) until stopped.

    farm up [--port 8080] [--host 127.0.0.1] [--site web/dist | --no-site]

The website (`make web` builds it into web/dist) is served at / on the same origin as the API;
with the local backend a loopback-only sign-in (/local/sign-in) gives it local tokens.

Settings come from FARM_* variables (FARM_DATA_DIR for where the embedded stores live).
Ctrl-C or SIGTERM stops it cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from farm.host import FunctionHost
    from farm.market_feed import MarketFeed
    from shared.app import Application

NAME = "up"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `up` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="run the local stack", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default FARM_PORT)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--no-market-data", dest="market_data", action="store_false",
        help="do not start the replay server and the ingester",
    )
    parser.add_argument("--site", type=Path, default=None,
                        help="the built website to serve at / (default web/dist)")
    parser.add_argument("--no-site", dest="serve_site", action="store_false",
                        help="serve the API only")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Start the stack, print its URL, and serve until SIGINT/SIGTERM."""
    started = time.monotonic()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    # Imported here so `farm --help` stays instant.
    from farm.host import FunctionHost
    from shared.app import Application
    from shared.settings import Settings

    settings = Settings.from_env()
    platform = Application(settings)
    platform.warehouse.ensure_tables()
    _replay_fmel_spills(platform)
    # The market is seeded beside serving, not before it; backtest launches wait until it is written.
    market_ready = _seed_market_in_background(platform)
    site_dir = _site_dir(args)
    host = FunctionHost(platform, host=args.host, port=args.port, site_dir=site_dir).start()
    feed = _start_market_feed(platform) if getattr(args, "market_data", True) else None
    _resume_paper_sessions(platform)
    print(
        f"farm up: serving {len(host.specs)} functions at {host.url} "
        f"(backend={settings.backend}, data={settings.data_dir}, "
        f"ready in {time.monotonic() - started:.2f}s)",
        flush=True,
    )
    _print_site(host, site_dir)
    try:
        while not stop.wait(0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        market_ready.wait(30.0)  # let the seeding finish before the warehouse is closed under it
        shutdown(platform, host, feed)
    return 0


def _site_dir(args: argparse.Namespace) -> Path | None:
    # Defaults keep `farm up` as callers before the website knew it: the site is an addition.
    if not getattr(args, "serve_site", True):
        return None
    from farm.website import SITE_DIR

    return getattr(args, "site", None) or SITE_DIR


def _print_site(host: FunctionHost, site_dir: Path | None) -> None:
    if site_dir is None:
        return
    if (site_dir / "index.html").is_file():
        print(f"farm up: website at {host.url}/", flush=True)
    else:
        print(f"farm up: the website is not built ({site_dir}): run `make web`", flush=True)


def shutdown(platform: Application, host: FunctionHost, feed: MarketFeed | None) -> None:
    """Stop everything `farm up` started: feed, host, then the application.

    Closing the application stops what it supervises before the stores they write: runtimes get
    SIGTERM (they flush FMEL and exit 0) and jobs are killed (reported failed) rather than left
    running with nobody supervising them; then the embedded stores release files and threads.
    """
    if feed is not None:
        feed.stop()
    host.stop()  # no new launches from here on
    runtimes = _running_runtimes(platform)
    platform.close()
    if runtimes:
        print(f"farm up: stopped {runtimes} paper-trading runtime(s)", flush=True)
    print("farm up: stopped", flush=True)


def _start_market_feed(platform: Application) -> MarketFeed:
    # Market data step (issue #6): replay server + ingester, so the live path works offline.
    from farm.market_feed import MarketFeed

    feed = MarketFeed(platform).start()
    print(f"farm up: market data replayed at {feed.replay.url}, ingester health at {feed.health_url}", flush=True)
    return feed


def _replay_fmel_spills(platform: Application) -> None:
    """Write the FMEL rows that jobs and runtimes spilled when the warehouse failed them."""
    from shared.fmel.recorder import replay_spills

    replayed = replay_spills(platform.warehouse, Path(platform.settings.data_dir) / "fmel-spill")
    if replayed:
        print(f"farm up: replayed {replayed} spilled FMEL decision(s) into the warehouse", flush=True)


def _resume_paper_sessions(platform: Application) -> None:
    # The runtimes of the last `farm up` ended with it (they stop when their supervisor goes):
    # start again every session nobody asked to stop. Each continues its decision numbering.
    from shared.services import paper_trading

    resumed = 0
    for session_id, session in paper_trading.sessions_to_resume(platform.documents):
        if not _runtime_gone(session_id, session.get("pid")):
            print(f"farm up: session {session_id}'s old runtime is still running; not resumed", flush=True)
            continue
        try:
            paper_trading.resume_session(session_id, session, documents=platform.documents,
                                         orchestrator=platform.orchestrator)
            resumed += 1
        except Exception as exc:  # noqa: BLE001 - one session's failure must not stop the stack
            print(f"farm up: session {session_id} could not resume: {exc}", flush=True)
    if resumed:
        print(f"farm up: resumed {resumed} paper-trading session(s)", flush=True)


def _runtime_gone(session_id: str, pid: int | None, timeout_s: float = 25.0) -> bool:
    # An old runtime that is still flushing FMEL must finish first, or two would write the same
    # decision points. Its command line names the session, so a reused pid is not mistaken for it.
    deadline = time.monotonic() + timeout_s
    while pid and time.monotonic() < deadline:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True
        if session_id.encode() not in cmdline:
            return True
        time.sleep(0.2)
    return not pid


def _running_runtimes(platform: Application) -> int:
    # Only an orchestrator this process built supervises anything; never build one just to ask.
    orchestrator = platform.built("orchestrator")
    if orchestrator is None:
        return 0
    return sum(1 for s in orchestrator.list() if s.state in ("starting", "running", "restarting"))


def _seed_market_in_background(platform: Application) -> threading.Event:
    # Writing ~8k bars takes most of a second; /healthz need not wait for it, backtests must.
    ready = threading.Event()
    platform.hold_launches_until(ready, "the synthetic market to be written")

    def seed() -> None:
        try:
            _ensure_synthetic_market(platform)
        except Exception as exc:  # noqa: BLE001 - reported; backtests then fail on missing bars, visibly
            print(f"farm up: could not write the synthetic market: {exc}", flush=True)
        finally:
            ready.set()

    threading.Thread(target=seed, name="seed-market", daemon=True).start()
    return ready


def _ensure_synthetic_market(platform: Application) -> None:
    # Automatic backtests need bars: write the labelled synthetic market once, when there are none.
    rows = platform.warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars")
    if rows and rows[0]["n"]:
        return
    from farm.commands.data import synth

    written = synth(platform.warehouse, None, None, None)
    print(f"farm up: market_data.bars was empty: wrote {written} synthetic daily bars", flush=True)
