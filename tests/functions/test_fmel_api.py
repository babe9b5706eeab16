"""FMEL API over real HTTP on the DuckDB warehouse: owner-only reads (404 for another user's
agent on every route), filters, cursor pages, analytics, streamed export, inert injections."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared.errors import NotFoundError
from shared.schemas.warehouse import DECISIONS
from tests.functions.agents_stack import Tokens
from tests.functions.analytics_stack import (
    analytics_platform,
    decisions,
    needs_warehouse,
    new_agent,
    serving,
)

pytestmark = needs_warehouse
ALICE, BOB = "alice-fmel", "bob-fmel"
INJECTIONS = ("' OR '1'='1", "x'; DROP TABLE fmel.decisions; --", "\" OR 1=1 --", "1) OR (1=1", "@user_id")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("fmel-api")
    platform = analytics_platform(data_dir)
    a, a2, b = new_agent(platform, ALICE), new_agent(platform, ALICE), new_agent(platform, BOB)
    rows = (decisions(a, ALICE, "run-a", "backtest", 30) + decisions(a, ALICE, "paper-a", "paper", 10)
            + decisions(a2, ALICE, "run-a2", "backtest", 5) + decisions(b, BOB, "run-b", "backtest", 20))
    platform.warehouse.insert_rows(DECISIONS.ref, rows)
    tokens = Tokens(data_dir)
    with serving(platform) as host:
        yield {"url": host.url, "platform": platform, "a": a, "a2": a2, "b": b, "rows": rows,
               "alice": tokens.header(ALICE), "bob": tokens.header(BOB)}


def get(stack: dict[str, Any], path: str, who: str = "alice", **params: Any) -> requests.Response:
    return requests.get(stack["url"] + path, params=params, headers=stack[who], timeout=30)


def all_pages(stack: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    seen, cursor = [], None
    while True:
        body = get(stack, "/api/fmel/decisions", **params, **({"cursor": cursor} if cursor else {})).json()
        seen += body["decisions"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_every_fmel_route_needs_a_token(stack: dict[str, Any]) -> None:
    for path in ("/api/fmel/decisions", f"/api/fmel/agents/{stack['a']}/analytics",
                 f"/api/fmel/agents/{stack['a']}/export"):
        assert requests.get(stack["url"] + path, timeout=10).status_code == 401, path


def test_a_user_reads_only_their_own_agents_decisions_page_by_page(stack: dict[str, Any]) -> None:
    seen = all_pages(stack, limit=7)
    assert len(seen) == 45
    assert {d["user_id"] for d in seen} == {ALICE}
    assert len({d["decision_id"] for d in seen}) == 45
    assert [(d["bar_time"], d["decision_id"]) for d in seen] == sorted((d["bar_time"], d["decision_id"]) for d in seen)
    bob = get(stack, "/api/fmel/decisions", who="bob").json()["decisions"]
    assert {d["agent_id"] for d in bob} == {stack["b"]}


def test_another_users_agent_is_404_on_every_fmel_route(stack: dict[str, Any]) -> None:
    b = stack["b"]
    for path, params in (("/api/fmel/decisions", {"agent": b}), (f"/api/fmel/agents/{b}/analytics", {}),
                         (f"/api/fmel/agents/{b}/export", {}), (f"/api/fmel/agents/{b}/export", {"format": "csv"})):
        response = get(stack, path, **params)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert response.json()["error"]["message"] == f"agent {b} not found"
    # ... exactly as for an agent that does not exist at all.
    missing = get(stack, f"/api/fmel/agents/{'0' * 32}/analytics")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == f"agent {'0' * 32} not found"


def test_filters_narrow_by_agent_session_mode_action_time_and_decision(stack: dict[str, Any]) -> None:
    a = stack["a"]
    assert len(all_pages(stack, agent=a)) == 40
    assert len(all_pages(stack, agent=a, session="paper-a")) == 10
    assert {d["mode"] for d in all_pages(stack, mode="paper")} == {"paper"}
    traded = all_pages(stack, agent=a, action="traded")
    assert len(traded) == 10 + 3 and {d["action"] for d in traded} == {"TRADED"}
    window = all_pages(stack, agent=a, session="run-a", since="2025-03-08T00:00:00Z", until="2025-03-13T00:00:00Z")
    assert [d["decision_point"] for d in window] == [5, 6, 7, 8, 9]
    pair = all_pages(stack, agent=a, session="run-a", from_decision=4, to_decision=5)
    assert [d["decision_point"] for d in pair] == [4, 5]
    assert pair[0]["data_accessed"][0]["reads"][1] == {"seq": 2, "field": "close", "index": -1, "value": 103.0}
    sixth = all_pages(stack, agent=a, session="run-a", from_decision=6, to_decision=6)[0]
    assert pair[0]["note"] is None and json.loads(sixth["note"]) == {"signal": 0.6, "reason": "trend"}
    assert pair[0]["indicators"][0] | {"value": 0} == {
        "name": "SMA", "params": "period=10", "line": "", "input": "AAPL close", "index": 0, "value": 0,
    }


def test_bad_filter_values_are_400_with_the_reason(stack: dict[str, Any]) -> None:
    for params in ({"mode": "live"}, {"action": "SOLD"}, {"since": "yesterday"}, {"limit": 501},
                   {"cursor": "not-a-cursor"}, {"since": "2025-03-09T00:00:00", "until": "2025-03-01T00:00:00"}):
        response = get(stack, "/api/fmel/decisions", **params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid_argument"


@pytest.mark.parametrize("payload", INJECTIONS)
def test_an_injection_attempt_in_every_filter_is_inert(stack: dict[str, Any], payload: str) -> None:
    a = stack["a"]
    for name in ("agent", "session", "mode", "action", "since", "until", "cursor", "from_decision",
                 "to_decision", "limit"):
        response = get(stack, "/api/fmel/decisions", **{name: payload})
        # Rejected as a bad value, as an unknown agent, or matched as plain text: never executed.
        assert response.status_code in (200, 400, 404), (name, response.text)
        if response.status_code == 200:
            assert response.json()["decisions"] == [], name
    for route in ("analytics", "export"):
        for name in ("session", "mode", "action", "since", "format"):
            response = get(stack, f"/api/fmel/agents/{a}/{route}", **{name: payload})
            assert response.status_code in (200, 400), (route, name)
            if response.status_code == 200 and route == "export":
                assert response.text == "", (route, name)
        assert get(stack, f"/api/fmel/agents/{payload}/{route}").status_code == 404
    # The table is whole, and nothing leaked across users.
    count = stack["platform"].warehouse.query("SELECT COUNT(*) AS n FROM fmel.decisions")[0]["n"]
    assert count == len(stack["rows"])
    assert len(all_pages(stack)) == 45


def test_analytics_count_actions_reads_trades_and_attribute_pnl_to_decisions(stack: dict[str, Any]) -> None:
    a = stack["a"]
    body = get(stack, f"/api/fmel/agents/{a}/analytics", session="run-a").json()
    assert body["decisions"] == 30
    assert body["by_action"] == {"INACTIVE": 1, "TRADED": 10, "HOLD": 19}
    assert body["fields_read"] == [{"field": "close", "reads": 60}, {"field": "volume", "reads": 30}]
    assert body["symbols_read"] == [{"symbol": "AAPL", "reads": 60, "decisions": 30},
                                    {"symbol": "MSFT", "reads": 30, "decisions": 30}]
    assert body["trades"]["count"] == 10
    assert body["trades"]["orders"][0] | {"bar_time": None} == {
        "decision_point": 3, "session_id": "run-a", "bar_time": None, "side": "buy", "symbol": "AAPL",
        "size": 10.0, "price": 103.0, "status": "completed"}
    rows = [r for r in stack["rows"] if r["session_id"] == "run-a"]
    expected: dict[str, float] = {}
    for before, after in itertools.pairwise(rows):
        change = after["portfolio_value"] - before["portfolio_value"]
        expected[before["action"]] = expected.get(before["action"], 0.0) + change
    assert body["pnl"]["by_action"] == pytest.approx(expected)
    assert body["pnl"]["total"] == pytest.approx(rows[-1]["portfolio_value"] - rows[0]["portfolio_value"])
    assert all(d["pnl"] > 0 for d in body["pnl"]["best"]) and all(d["pnl"] < 0 for d in body["pnl"]["worst"])
    assert body["indicators_read"] == [{"indicator": "SMA(period=10)", "input": "AAPL close", "reads": 30}]
    signals = [round(0.1 * r["decision_point"], 2) for r in rows if r["action"] == "TRADED"]
    [reason, signal] = body["notes"]["keys"]  # as many decisions each: by key name
    assert body["notes"]["decisions_with_notes"] == 10
    assert signal == {"key": "signal", "decisions": 10, "min": min(signals), "max": max(signals),
                      "mean": pytest.approx(sum(signals) / 10)}
    assert reason == {"key": "reason", "decisions": 10, "values": [{"value": "trend", "decisions": 10}]}


def test_export_streams_every_decision_as_json_lines_or_csv(stack: dict[str, Any]) -> None:
    a = stack["a"]
    response = requests.get(f"{stack['url']}/api/fmel/agents/{a}/export", headers=stack["alice"], stream=True,
                            timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed, not buffered
    lines = [json.loads(line) for line in response.iter_lines() if line]
    assert len(lines) == 40 and {row["agent_id"] for row in lines} == {a}
    text = get(stack, f"/api/fmel/agents/{a}/export", format="csv", session="paper-a").text
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 10
    assert list(table[0]) == [c.name for c in DECISIONS.columns]
    assert json.loads(table[2]["actions"])[0]["symbol"] == "AAPL"


def test_farm_explain_shows_what_a_decision_read_did_and_changed(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from farm.commands import explain

    token = stack["alice"]["Authorization"].removeprefix("Bearer ")
    args = argparse.Namespace(agent_id=stack["a"], decision=6, session="run-a", user=None, token=token,
                              url=stack["url"])
    assert explain.run(args) == 0
    text = capsys.readouterr().out
    assert "Decision 6 of backtest session run-a" in text
    assert "Its note: signal=0.6, reason=trend" in text
    assert "SMA(period=10) of AAPL close = 101.5 (this bar)" in text
    assert "AAPL close = 106 (this bar)" in text and "AAPL close = 105 (1 bar back)" in text
    assert "MSFT volume = 6,000 (this bar)" in text
    assert "It did: placed 1 order(s)" in text and "10 AAPL @ 106.00 (market)" in text
    assert "Bars behind it: 2 bar(s) of 2 symbol(s) (AAPL, MSFT)" in text and "AAPL h-6  close" in text
    assert "Portfolio before: value 24,940.00" in text
    assert "Portfolio after (decision 7): value 25,070.00" in text and "change +130.00" in text
    # Without --decision: the latest trade of the session with the latest bar.
    latest = explain.find_decision(stack["url"], token, stack["a"], None, None)[0]
    assert (latest["session_id"], latest["decision_point"]) == ("run-a", 30)
    bob = stack["bob"]["Authorization"].removeprefix("Bearer ")
    with pytest.raises(NotFoundError):
        explain.find_decision(stack["url"], bob, stack["a"], 6, None)
