"""FMEL read use cases: a user's decisions (filtered, paged), per-agent analytics, export.

Every query is owner-scoped (`user_id = @user_id`) and an agent named in a request must be the
caller's (NotFoundError otherwise, never a hint that it exists). Values reach the warehouse only
as named parameters (shared.services.fmel_queries).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.domain.agent import check_agent_id
from shared.domain.unit_of_work import read_only
from shared.ports.documents import DocumentStore
from shared.ports.warehouse import Warehouse
from shared.services.fmel_queries import DecisionFilter, decode_cursor, encode_cursor

MAX_PAGE = 500
DEFAULT_PAGE = 100
EXPORT_BATCH = 1000
TOP_N = 10
NOTES_SCANNED = 10_000  # the latest notes summarised (a summary, not an export)


@dataclass(frozen=True)
class DecisionPage:
    """One page of decisions and the cursor of the next (None at the end)."""

    decisions: list[dict[str, Any]]
    next_cursor: str | None


def owned_agent(documents: DocumentStore, user_id: str, agent_id: str) -> dict[str, Any]:
    """The caller's agent document, deleted ones included (their FMEL history stays readable)."""
    check_agent_id(agent_id)
    return read_only(documents).agents.owned_or_deleted(agent_id, user_id).to_document()


def list_decisions(
    flt: DecisionFilter, *, warehouse: Warehouse, documents: DocumentStore,
    limit: int = DEFAULT_PAGE, cursor: str | None = None,
) -> DecisionPage:
    """The caller's decisions matching `flt`, oldest first, `limit` at a time."""
    if flt.agent_id is not None:
        owned_agent(documents, flt.user_id, flt.agent_id)
    rows = _page(warehouse, flt, limit, decode_cursor(cursor) if cursor else None)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["bar_time"], rows[-1]["decision_id"])
    return DecisionPage([plain(row) for row in rows], next_cursor)


def export_decisions(
    flt: DecisionFilter, *, warehouse: Warehouse, documents: DocumentStore
) -> Iterator[dict[str, Any]]:
    """Every decision matching `flt`, read in batches so an export never sits in memory whole.

    The ownership check runs now, before the first row is asked for, so a response can still
    be a 404 rather than a broken stream.
    """
    if flt.agent_id is not None:
        owned_agent(documents, flt.user_id, flt.agent_id)

    def rows() -> Iterator[dict[str, Any]]:
        after: tuple[datetime, str] | None = None
        while True:
            batch = _page(warehouse, flt, EXPORT_BATCH - 1, after)
            yield from (plain(row) for row in batch)
            if len(batch) < EXPORT_BATCH:
                return
            after = (batch[-1]["bar_time"], batch[-1]["decision_id"])

    return rows()


def agent_analytics(
    flt: DecisionFilter, *, warehouse: Warehouse, documents: DocumentStore
) -> dict[str, Any]:
    """Counts by action, most-read fields and symbols, trades, and P&L by decision."""
    assert flt.agent_id is not None, "analytics are per agent"
    owned_agent(documents, flt.user_id, flt.agent_id)
    where, params = flt.where()
    qualified, _ = flt.where("d")
    counts = warehouse.query(
        f"SELECT action, COUNT(*) AS decisions FROM fmel.decisions WHERE {where} GROUP BY action", params
    )
    fields = warehouse.query(
        "SELECT r.field AS field, COUNT(*) AS reads FROM fmel.decisions AS d, UNNEST(d.data_accessed) AS a, "
        f"UNNEST(a.reads) AS r WHERE {qualified} GROUP BY r.field ORDER BY reads DESC, field LIMIT {TOP_N}",
        params,
    )
    symbols = warehouse.query(
        "SELECT a.symbol AS symbol, SUM(ARRAY_LENGTH(a.reads)) AS reads, COUNT(*) AS decisions "
        f"FROM fmel.decisions AS d, UNNEST(d.data_accessed) AS a WHERE {qualified} "
        f"GROUP BY a.symbol ORDER BY reads DESC, symbol LIMIT {TOP_N}",
        params,
    )
    trades = warehouse.query(
        "SELECT d.decision_point AS decision_point, d.session_id AS session_id, d.bar_time AS bar_time, "
        "t.side AS side, t.symbol AS symbol, t.size AS size, t.price AS price, t.status AS status "
        f"FROM fmel.decisions AS d, UNNEST(d.actions) AS t WHERE {qualified} "
        "ORDER BY d.bar_time, d.decision_point, t.seq",
        params,
    )
    return {
        "agent_id": flt.agent_id,
        "decisions": sum(int(r["decisions"]) for r in counts),
        "by_action": {r["action"]: int(r["decisions"]) for r in counts},
        "fields_read": [{"field": r["field"], "reads": int(r["reads"])} for r in fields],
        "symbols_read": [
            {"symbol": r["symbol"], "reads": int(r["reads"] or 0), "decisions": int(r["decisions"])} for r in symbols
        ],
        "trades": {"count": len(trades), "orders": [plain(r) for r in trades[:MAX_PAGE]]},
        "pnl": _pnl(warehouse, where, params),
        "indicators_read": [
            {"indicator": r["indicator"], "input": r["input"], "reads": int(r["reads"])}
            for r in warehouse.query(
                "SELECT CONCAT(i.name, '(', COALESCE(i.params, ''), ')') AS indicator, i.input AS input, "
                f"COUNT(*) AS reads FROM fmel.decisions AS d, UNNEST(d.indicators) AS i WHERE {qualified} "
                f"GROUP BY indicator, input ORDER BY reads DESC, indicator LIMIT {TOP_N}",
                params,
            )
        ],
        "notes": _notes(warehouse, where, params),
    }


def _notes(warehouse: Warehouse, where: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the agent's own notes said: per key, how often, and the range and mean of numbers."""
    rows = warehouse.query(
        f"SELECT action, note FROM fmel.decisions WHERE {where} AND note IS NOT NULL "
        f"ORDER BY bar_time DESC LIMIT {NOTES_SCANNED}",
        params,
    )
    keys: dict[str, dict[str, Any]] = {}
    for row in rows:
        try:
            note = json.loads(row["note"])
        except (TypeError, ValueError):
            continue
        for key, value in note.items() if isinstance(note, dict) else ():
            entry = keys.setdefault(key, {"key": key, "decisions": 0, "numbers": [], "texts": {}})
            entry["decisions"] += 1
            if isinstance(value, int | float) and not isinstance(value, bool):
                entry["numbers"].append(float(value))
            elif isinstance(value, str):
                entry["texts"][value] = entry["texts"].get(value, 0) + 1
    summary = []
    for entry in sorted(keys.values(), key=lambda e: (-e["decisions"], e["key"]))[:TOP_N]:
        numbers, texts = entry.pop("numbers"), entry.pop("texts")
        if numbers:
            entry |= {"min": min(numbers), "max": max(numbers), "mean": sum(numbers) / len(numbers)}
        if texts:
            entry["values"] = [{"value": v, "decisions": n} for v, n in
                               sorted(texts.items(), key=lambda t: (-t[1], t[0]))[:TOP_N]]
        summary.append(entry)
    return {"decisions_with_notes": len(rows), "keys": summary}


def _pnl(warehouse: Warehouse, where: str, params: dict[str, Any]) -> dict[str, Any]:
    # A decision's P&L is the change in portfolio value until the session's next decision: what
    # followed from acting (or holding) at that point.
    rows = warehouse.query(
        "WITH d AS (SELECT session_id, decision_point, bar_time, action, "
        "LEAD(portfolio_value) OVER (PARTITION BY session_id ORDER BY decision_point) - portfolio_value AS pnl "
        f"FROM fmel.decisions WHERE {where}) "
        "SELECT session_id, decision_point, bar_time, action, pnl FROM d WHERE pnl IS NOT NULL",
        params,
    )
    by_action: dict[str, float] = {}
    for row in rows:
        by_action[row["action"]] = by_action.get(row["action"], 0.0) + float(row["pnl"])
    ranked = sorted(rows, key=lambda r: (float(r["pnl"]), r["session_id"], r["decision_point"]))
    return {
        "total": sum(by_action.values()),
        "by_action": by_action,
        "best": [plain(r) for r in reversed(ranked[-TOP_N:]) if float(r["pnl"]) > 0],
        "worst": [plain(r) for r in ranked[:TOP_N] if float(r["pnl"]) < 0],
    }


def _page(
    warehouse: Warehouse, flt: DecisionFilter, limit: int, after: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    where, params = flt.where()
    if after is not None:
        where += " AND (bar_time > @after_time OR (bar_time = @after_time AND decision_id > @after_id))"
        params |= {"after_time": after[0], "after_id": after[1]}
    params["fetch"] = limit + 1  # one more than asked: whether a next page exists
    return warehouse.query(
        f"SELECT * FROM (SELECT * FROM fmel.decisions WHERE {where}) AS d WHERE TRUE "
        "QUALIFY ROW_NUMBER() OVER (ORDER BY bar_time, decision_id) <= @fetch "
        "ORDER BY bar_time, decision_id",
        params,
    )


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready copy of a warehouse row (timestamps as ISO 8601 text)."""
    return {k: _plain(v) for k, v in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def with_agent(flt: DecisionFilter, agent_id: str) -> DecisionFilter:
    """`flt` narrowed to one agent."""
    return replace(flt, agent_id=agent_id)
