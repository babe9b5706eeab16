"""What the CLI commands that queue a job through the API share (`farm backtest`, `farm reconcile`).

The caller's client from `--user`/`--token`/FARM_TOKEN, waiting for the job with its status and
the time waited shown on one line, and saving the job's chart.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from farm.commands._api_client import DEFAULT_URL
from farm.commands.trade import TradeApi
from shared.errors import FarmError

FINAL = ("succeeded", "failed")


def add_caller_arguments(parser: argparse.ArgumentParser, *, timeout_s: float = 1800.0) -> None:
    """Who calls which API, and how long to wait for the job."""
    parser.add_argument("--user", default=None, help="mint a local token for this user")
    parser.add_argument("--token", default=None, help="an ID token (default: --user's local token, or FARM_TOKEN)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--timeout", type=float, default=timeout_s, help="seconds to wait for the result")


def caller_api(args: argparse.Namespace) -> TradeApi:
    """The API as the caller of `add_caller_arguments`' options."""
    from farm.commands.submit import _token

    return TradeApi(args.url, args.token or _token(args.user))


def wait_until_final(api: TradeApi, path: str, timeout_s: float, *, what: str) -> dict[str, Any]:
    """Poll the job at `path` until it has finished, printing its status and the time waited."""
    started = time.monotonic()
    status = ""
    while True:
        result = api.call("GET", path)
        elapsed = time.monotonic() - started
        if result["status"] in FINAL:
            print(f"\r  {result['status']} after {elapsed:.1f}s" + " " * 20, flush=True)
            return result
        if elapsed > timeout_s:
            raise FarmError(f"{what} still {result['status']} after {timeout_s:.0f}s")
        if result["status"] != status and status:
            print(flush=True)
        status = result["status"]
        spinner = "|/-\\"[int(elapsed * 4) % 4]
        sys.stdout.write(f"\r  {status} {spinner} {elapsed:5.1f}s")
        sys.stdout.flush()
        time.sleep(0.25)


def save_chart(api: TradeApi, path: str, chart: str) -> Path:
    """Download the job's chart PNG to `chart` and say where it is."""
    saved = Path(chart).resolve()
    saved.write_bytes(download(api, path))
    print(f"  chart: {saved}")
    return saved


def download(api: TradeApi, path: str) -> bytes:
    """GET a binary body with the caller's token."""
    request = urllib.request.Request(api.base_url + path, headers={"Authorization": f"Bearer {api.token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()
