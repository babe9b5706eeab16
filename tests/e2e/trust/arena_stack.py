"""The score-manipulation arena: the local stack over HTTP, every corpus agent submitted at once.

`open_arena` starts the function host on embedded stores with a small standard evaluation
(trust_stack.SYMBOLS over START..END), lets bob's agent (the victim) finish its automatic backtest,
snapshots everything of bob's, then submits every manipulator and honest twin of `agents/` as
alice (an agent validation rejects is stored directly too) and waits for all their automatic
backtests: each is the real job subprocess with the agent in bubblewrap.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from farm.host import FunctionHost
from shared.app import Application
from shared.backtest.report import output_key
from shared.market.synthetic import write_synthetic_market
from shared.schemas.collections import AGENTS, BACKTESTS
from tests.app_factory import embedded_app
from tests.e2e.trust.trust_stack import (
    END,
    START,
    SYMBOLS,
    agent_source,
    record_standard_evaluation,
)
from tests.functions.agents_stack import Tokens
from tests.unit.backtest.backtest_stack import SMA_SOURCE, seed_agent

TWINS = {
    "add_cash": "control",
    "set_cash": "control",
    "negative_commission": "control",
    "fake_getvalue": "control",
    "analyzer_rewrite": "control",
    "price_write": "control",
    "fmel_forger": "control",
    "fmel_dropper": "control",
    "runstop": "runstop_reference",
    "look_ahead": "momentum",
}
HONEST = ("control", "runstop_reference", "momentum")
FINAL = {"backtested", "backtest_failed"}
BARS = 171
VICTIM_MARK = "# bob's own strategy, never to be read or rewritten by anyone else"

@dataclass
class Entrant:
    """One submitted agent and what the platform made of it."""

    name: str
    agent_id: str
    accepted: bool  # by validation; a rejected agent was stored directly
    findings: list[Any] = field(default_factory=list)
    agent: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""


@dataclass
class Arena:
    """The stack after every agent's automatic backtest has finished."""

    host: FunctionHost
    tokens: Tokens
    platform: Application
    entrants: dict[str, Entrant]
    victim_id: str
    victim_before: dict[str, Any]
    victim_after: dict[str, Any]


@contextmanager
def open_arena(data: Path) -> Iterator[Arena]:
    """The stack once every agent's automatic backtest has ended; closed on exit."""
    platform = embedded_app(
        data, backtest_budget_s=120, port=0, rate_limits=("submissions=100/60", "requests=1000/60")
    )
    platform.warehouse.ensure_tables()
    write_synthetic_market(platform.warehouse, SYMBOLS, START, END)
    record_standard_evaluation(platform.documents)
    host = FunctionHost(platform, port=0).start()
    tokens = Tokens(data)
    try:
        victim = _submit(
            host, tokens, platform, "victim", SMA_SOURCE + "\n" + VICTIM_MARK + "\n", owner="bob"
        )
        _wait(host, tokens, platform, {"victim": victim})
        before = _victim_state(platform, victim.agent_id)
        entrants = {
            name: _submit(host, tokens, platform, name, agent_source(name))
            for name in (*TWINS, *HONEST)
        }
        _wait(host, tokens, platform, entrants)
        yield Arena(
            host,
            tokens,
            platform,
            entrants,
            victim.agent_id,
            before,
            _victim_state(platform, victim.agent_id),
        )
    finally:
        host.stop()
        platform.close()  # backtest jobs first, then the stores


def _call(
    host: FunctionHost,
    tokens: Tokens,
    method: str,
    path: str,
    body: Any = None,
    owner: str = "alice",
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        host.url + path,
        data=data,
        method=method,
        headers={**tokens.header(owner), "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _submit(
    host: FunctionHost,
    tokens: Tokens,
    platform: Application,
    name: str,
    code: str,
    owner: str = "alice",
) -> Entrant:
    try:
        created = _call(host, tokens, "POST", "/api/agents", {"name": name, "code": code}, owner)
    except urllib.error.HTTPError as exc:
        assert exc.code == 422, f"{name}: {exc.code} {exc.read()[:500]!r}"
        findings = json.loads(exc.read() or b"{}")
        agent_id = f"seeded-{name.replace('_', '-')}"
        seed_agent(
            platform, agent_id, code, owner=owner
        )  # its automatic backtest starts from the document
        return Entrant(name, agent_id, accepted=False, findings=[findings])
    return Entrant(name, created["agent_id"], accepted=True)


def _wait(
    host: FunctionHost,
    tokens: Tokens,
    platform: Application,
    entrants: dict[str, Entrant],
    timeout_s: float = 240.0,
) -> None:
    deadline = time.monotonic() + timeout_s
    pending = dict(entrants)
    while pending and time.monotonic() < deadline:
        for name, entrant in list(pending.items()):
            agent = platform.documents.get(AGENTS, entrant.agent_id) or {}
            if agent.get("status") in FINAL:
                owner = agent["owner_uid"]
                run_id = f"{entrant.agent_id}-auto"
                entrant.agent = agent
                if (
                    owner == "alice"
                ):  # the victim's run is read from the stores only (see _victim_state)
                    entrant.run = _call(
                        host, tokens, "GET", f"/api/backtests/{run_id}", owner=owner
                    )
                entrant.rows = _rows(platform, run_id)
                if platform.blobs.exists(output_key(run_id)):
                    entrant.output = platform.blobs.get(output_key(run_id)).decode(errors="replace")
                del pending[name]
        time.sleep(0.3)
    assert not pending, f"still not backtested after {timeout_s}s: {sorted(pending)}"


def _rows(platform: Application, session_id: str) -> list[dict[str, Any]]:
    return platform.warehouse.query(
        "SELECT * FROM fmel.decisions WHERE session_id = @s ORDER BY decision_point",
        {"s": session_id},
    )


def _victim_state(platform: Application, agent_id: str) -> dict[str, Any]:
    agent = platform.documents.get(AGENTS, agent_id)
    run_id = f"{agent_id}-auto"
    run = platform.documents.get(BACKTESTS, run_id)
    return {
        "agent": agent,
        "bundle": platform.blobs.get(agent["bundle_key"]),
        "run": run,
        "report": platform.blobs.get(run["report_key"]),
        "rows": [comparable(r) for r in _rows(platform, run_id)],
        "runs": platform.warehouse.query(
            "SELECT * FROM analytics.backtest_runs WHERE agent_id = @a", {"a": agent_id}
        ),
    }


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(row, default=str, sort_keys=True))
