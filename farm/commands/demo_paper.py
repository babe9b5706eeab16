"""`farm demo` step: paper-trade the example agent on the replayed market for a few seconds.

fund -> start -> wait for decisions -> show the session (positions, value) -> stop. Every wait
is bounded; when the agent never got backtested the step says so and moves on.
"""

from __future__ import annotations

import time
from typing import Any

from farm.commands.trade import TradeApi, render
from shared.domain.money import DEFAULT_CASH
from shared.errors import FarmError

WAIT_FOR_BACKTEST_S = 120.0
WAIT_FOR_DECISIONS_S = 45.0
DECISIONS = 8  # one bar a second from the replay: a few seconds of trading
SYMBOLS = ["AAPL", "MSFT"]  # two feeds keep the demo quick; the agent trades each on its own


def paper_trade_example(ctx: Any) -> None:
    """Fund the example agent's account, paper-trade it briefly, show the session, stop it."""
    agent_id, token = ctx.notes.get("agent_id"), ctx.notes.get("token")
    if not agent_id:
        print("  no agent was submitted: nothing to paper-trade")
        return
    api = TradeApi(ctx.url, token)
    status = _wait_backtested(api, agent_id)
    if status != "backtested":
        print(f"  the agent is {status}, not backtested: paper trading needs a passed backtest; skipping")
        return
    account = api.ensure_funded(agent_id, DEFAULT_CASH)
    print(f"  farm trade {agent_id} start --symbols {','.join(SYMBOLS)}")
    print(f"  account {account['account_id']} funded: cash {account['cash']:,.2f}")
    started = time.monotonic()
    session = api.start(agent_id, SYMBOLS, "1Min")
    print(f"  session {session['session_id']}: {session['state']}")
    try:
        session = _wait_decisions(api, agent_id, started)
        print("  farm trade status")
        print("  " + render(session).replace("\n", "\n  "))
    finally:
        stopped = api.stop(agent_id)
        ctx.notes["paper_session"] = stopped["session_id"]
    print(f"  farm trade stop -> {stopped['state']}: value {stopped.get('portfolio_value', 0):,.2f}, "
          f"{stopped.get('decisions', 0)} decisions recorded, {stopped.get('trades', 0)} trades")


def _wait_backtested(api: TradeApi, agent_id: str) -> str:
    deadline = time.monotonic() + WAIT_FOR_BACKTEST_S
    shown = None
    while True:
        status = api.call("GET", f"/api/agents/{agent_id}")["status"]
        if status != shown:
            print(f"  agent status: {status}", flush=True)
            shown = status
        if status not in ("submitted", "validating", "stored", "backtesting") or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def _wait_decisions(api: TradeApi, agent_id: str, started: float) -> dict[str, Any]:
    deadline = started + WAIT_FOR_DECISIONS_S
    first = None
    while True:
        session = api.status(agent_id)
        made = session.get("decisions") or 0
        if made and first is None:
            first = time.monotonic() - started
            print(f"  first decision {first:.1f}s after start", flush=True)
        if made >= DECISIONS:
            return session
        if session.get("state") in ("failed", "stopped") or time.monotonic() > deadline:
            if session.get("error"):
                raise FarmError(f"the runtime failed: {session['error'].strip().splitlines()[-1]}")
            print(f"  only {made} decisions after {time.monotonic() - started:.0f}s; showing what there is")
            return session
        time.sleep(0.5)
