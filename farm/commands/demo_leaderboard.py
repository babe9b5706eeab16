"""`farm demo` steps of the leaderboard and FMEL: the ranking, then a few decisions explained."""

from __future__ import annotations

import time
from typing import Any

from farm.commands._api_client import get_json
from shared.errors import FarmError, NotFoundError

WAIT_FOR_BACKTEST_S = 120.0
EXPLAINED = 3


def show_leaderboard_and_explain(ctx: Any) -> None:
    """Wait for the example agent's backtest to be ranked, print the board, explain decisions."""
    from farm.commands.explain import explain
    from farm.commands.leaderboard import render

    agent_id, token = ctx.notes.get("agent_id"), ctx.notes.get("token")
    if not agent_id:
        print("  no agent was submitted: nothing to rank")
        return
    deadline = time.monotonic() + WAIT_FOR_BACKTEST_S
    while True:
        try:
            standing = get_json(ctx.url, f"/api/leaderboard/agents/{agent_id}")
            break
        except NotFoundError:
            if time.monotonic() > deadline:
                print(f"  the agent's backtest was not ranked within {WAIT_FOR_BACKTEST_S:.0f}s; skipping")
                return
            time.sleep(1.0)
    board = get_json(ctx.url, "/api/leaderboard", {"limit": 10})
    print("  GET /api/leaderboard  (farm leaderboard)")
    print("  " + render(board).replace("\n", "\n  "))
    print(f"  our agent: rank {standing['entry']['rank']} from {standing['source']}")
    traded = get_json(ctx.url, "/api/fmel/decisions",
                      {"agent": agent_id, "action": "TRADED", "limit": EXPLAINED}, token)["decisions"]
    for decision in traded:
        point = decision["decision_point"]
        try:
            following = get_json(ctx.url, "/api/fmel/decisions", {
                "agent": agent_id, "session": decision["session_id"], "from_decision": point + 1,
                "to_decision": point + 1}, token)["decisions"]
        except FarmError as exc:
            print(f"  cannot read decision {point + 1}: {exc.message}")
            following = []
        print(f"\n  farm explain {agent_id} --decision {point}")
        print("  " + explain(decision, following[0] if following else None).replace("\n", "\n  "))
