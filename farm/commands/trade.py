"""`farm trade AGENT start|stop|status`: paper-trade an agent through the platform's API.

    farm trade <agent_id> start [--symbols AAPL,MSFT] [--timeframe 1Min] [--fund 25000]
    farm trade <agent_id> status [--json]
    farm trade <agent_id> stop
    (each with [--user alice | --token T] [--url http://127.0.0.1:8080])

`start` opens the agent's paper account when it has none and funds it once when it is empty
(the same idempotency key every time, so running it twice never funds twice), then starts the
session. `status` shows state, value, positions, recent trades and heartbeat; `stop` waits for
the runtime's graceful exit and shows the final figures.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from typing import Any

from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import TIMEFRAMES, Timeframe
from shared.errors import (
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)

NAME = "trade"
DEFAULT_URL = "http://127.0.0.1:8080"
STOP_TIMEOUT_S = 60.0  # the API waits for the runtime's graceful exit (<= 20 s) before answering


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `trade` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="start, stop or show paper trading", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agent_id")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--symbols", default=None, help="comma-separated (default: the agent's backtest's)")
    parser.add_argument("--timeframe", default=None, choices=TIMEFRAMES,
                        help=f"bar timeframe (default {Timeframe.MINUTE.value})")
    parser.add_argument("--fund", type=float, default=DEFAULT_CASH,
                        help=f"cash for an empty account (default {DEFAULT_CASH:g})")
    parser.add_argument("--user", default=None, help="mint a local token for this user")
    parser.add_argument("--token", default=None, help="an ID token (default: --user's local token)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the action and print its result."""
    token = args.token or (_local_token(args.user) if args.user else None)
    if token is None:
        raise InvalidInputError("give --user (local stack) or --token")
    api = TradeApi(args.url, token)
    if args.action == "start":
        symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
        account = api.ensure_funded(args.agent_id, args.fund)
        print(f"account {account['account_id']}: cash {account['cash']:,.2f} ({account['provider']})")
        session = api.start(args.agent_id, symbols, args.timeframe)
    elif args.action == "stop":
        session = api.stop(args.agent_id)
    else:
        session = api.status(args.agent_id)
    print(json.dumps(session, indent=2) if args.json else render(session))
    return 0


class TradeApi:
    """The paper-trading and broker-account routes of one API, as one caller."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def ensure_funded(self, agent_id: str, amount: float) -> dict[str, Any]:
        """Open the agent's account if needed and fund it once when it was never funded."""
        account = self.call("POST", "/api/broker/accounts", {"agent_id": agent_id})
        if account.get("funded"):
            return account
        return self.call("POST", f"/api/broker/accounts/{account['account_id']}/funding",
                         {"amount": amount, "idempotency_key": f"farm-trade-{agent_id}"})

    def start(self, agent_id: str, symbols: list[str] | None, timeframe: str | None) -> dict[str, Any]:
        """Start paper trading; the new session."""
        body = {k: v for k, v in (("symbols", symbols), ("timeframe", timeframe)) if v}
        return self.call("POST", f"/api/agents/{agent_id}/paper-trading", body)

    def stop(self, agent_id: str) -> dict[str, Any]:
        """Stop paper trading; the final session."""
        return self.call("DELETE", f"/api/agents/{agent_id}/paper-trading", timeout_s=STOP_TIMEOUT_S)

    def status(self, agent_id: str) -> dict[str, Any]:
        """The agent's latest session."""
        return self.call("GET", f"/api/agents/{agent_id}/paper-trading")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *,
             timeout_s: float = 30.0) -> Any:
        """One JSON request; the API's error envelope becomes the matching FarmError."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None
        except urllib.error.URLError as exc:
            raise FarmError(f"cannot reach {self.base_url} ({exc.reason}); is `farm up` running?") from None


def render(session: dict[str, Any]) -> str:
    """The session as a few readable lines."""
    value, start = session.get("portfolio_value"), session.get("starting_value")
    change = f" ({(value / start - 1) * 100:+.2f}%)" if value and start else ""
    lines = [
        f"session {session.get('session_id')}: {session.get('state')}",
        f"  symbols   {', '.join(session.get('symbols') or [])} ({session.get('timeframe')})",
        f"  value     {_money(value)}{change}   cash {_money(session.get('cash'))}",
        (f"  decisions {session.get('decisions', 0)} (last #{session.get('last_decision_point', 0)}), "
        f"trades {session.get('trades', 0)}, restarts {session.get('restarts', 0)}"),
        f"  heartbeat {session.get('heartbeat_at') or '-'}",
    ]
    if session.get("market"):
        lines.append(f"  market    {session['market'].get('message')}")
    if session.get("data"):
        data = session["data"]
        lines.append(f"  data      {'SYNTHETIC - ' if data.get('synthetic') else ''}{data.get('note')}")
    if session.get("lost_decisions"):
        lines.append(f"  lost      {session['lost_decisions']} decisions (killed before they were written)")
    if session.get("error"):
        lines.append(f"  error     {session['error'].strip().splitlines()[-1]}")
    positions = session.get("positions") or []
    lines.append("  positions " + ("none" if not positions else ""))
    lines += [f"    {p['symbol']:<10} {p['size']:>10g} @ {p['price']:.2f}  = {_money(p.get('value'))}"
              for p in positions]
    trades = (session.get("recent_trades") or [])[-5:]
    if trades:
        lines.append("  recent trades")
        lines += [f"    {t['at']}  {t['side']:<4} {t['size']:g} {t['symbol']} @ {t['price']:.2f}" for t in trades]
    return "\n".join(lines)


def _money(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, (int, float)) else "-"


def _error(exc: urllib.error.HTTPError) -> FarmError:
    try:
        message = json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = str(exc.reason)
    text = f"{exc.code}: {message}"
    if exc.code == 404:
        return NotFoundError(text)
    if exc.code == 409:
        return ConflictError(text)
    if exc.code == 429:
        return RateLimitedError(text, retry_after_s=float(exc.headers.get("Retry-After") or 60))
    if exc.code in (400, 422):
        return InvalidInputError(text)
    return FarmError(text)


def _local_token(user: str) -> str:
    from shared.identity import LOCAL_PROJECT
    from shared.identity.local_keys import load_or_create_signing_key
    from shared.identity.minting import mint_id_token
    from shared.settings import Settings

    return mint_id_token(load_or_create_signing_key(Settings.from_env().data_dir), user, project=LOCAL_PROJECT)
