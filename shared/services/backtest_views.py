"""Reading backtest runs (SPEC §4 wave 2): one run in full, and an agent's runs page by page.

Only the owner reads a run; someone else's run is reported exactly like a missing one
(NotFoundError from the repository's one ownership check). Every finished run says which market
data it ran on (`data`: synthetic or real, from the bars themselves) and whether it is the
agent's standard evaluation (`standard`), the only run the leaderboard ranks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shared.domain.backtest_run import FINISHED
from shared.domain.timeframe import Timeframe
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.errors import InvalidInputError
from shared.ports.blobs import BlobStore
from shared.ports.documents import DocumentStore, Filter
from shared.ports.warehouse import Warehouse
from shared.schemas.collections import BACKTESTS
from shared.services.agent_pages import decode_token, encode_token
from shared.services.market_labels import bars_label

DEFAULT_RUNS_PAGE = 20
MAX_RUNS_PAGE = 100
RUN_FIELDS = ("agent_id", "status", "request", "metrics", "error", "report_key", "created_at", "started_at",
              "finished_at", "automatic", "standard", "evaluation", "data")
SUMMARY_FIELDS = ("agent_id", "status", "request", "created_at", "started_at", "finished_at", "automatic",
                  "standard", "error")
SUMMARY_METRICS = ("total_return", "sharpe", "max_drawdown", "trades", "win_rate", "benchmark_return")


@dataclass(frozen=True)
class RunPage:
    """An agent's runs (summaries, newest first) and the token of the next page."""

    runs: list[dict[str, Any]]
    next_page_token: str | None


def owned_run(documents: DocumentStore, owner_uid: str, run_id: str) -> dict[str, Any]:
    """The caller's run document; NotFoundError when missing or someone else's."""
    return read_only(documents).backtest_runs.owned(run_id, owner_uid).to_document()


def get_backtest(
    owner_uid: str, run_id: str, *, documents: DocumentStore, blobs: BlobStore, warehouse: Warehouse | None = None
) -> dict[str, Any]:
    """Return the caller's run: status, request, metrics, data label and, when finished, the report."""
    doc = owned_run(documents, owner_uid, run_id)
    if warehouse is not None and doc.get("data") is None and doc.get("status") in FINISHED:
        doc["data"] = run_data_label(doc, warehouse)
        if doc["data"] is not None:  # a finished run's bars never change: label it once
            _label(documents, run_id, doc["data"])
    body = {"run_id": run_id, **{k: doc.get(k) for k in RUN_FIELDS}}
    body["standard"] = bool(doc.get("standard"))
    if doc.get("report_key"):
        report = json.loads(blobs.get(doc["report_key"]))
        body |= {k: report.get(k) for k in ("equity_curve", "drawdown", "trades", "chart_key")}
    return body


def _label(documents: DocumentStore, run_id: str, data: dict[str, Any]) -> None:
    def label(uow: UnitOfWork) -> None:
        run = uow.backtest_runs.require(run_id)
        run.label_data(data)
        uow.backtest_runs.save(run)

    run_in_transaction(documents, label)


def run_data_label(doc: dict[str, Any], warehouse: Warehouse) -> dict[str, Any] | None:
    """Where the run's bars came from; None when the run document holds no request."""
    request = doc.get("request") or {}
    if not request.get("symbols"):
        return None
    return bars_label(warehouse, request["symbols"], request["start"], request["end"],
                      request.get("timeframe") or Timeframe.DAY.value)


def list_backtests(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, limit: int = DEFAULT_RUNS_PAGE,
    page_token: str | None = None,
) -> RunPage:
    """The caller's runs of one of their agents, newest first; NotFoundError when the agent is not theirs."""
    if not 1 <= limit <= MAX_RUNS_PAGE:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_RUNS_PAGE}")
    read_only(documents).agents.owned(agent_id, owner_uid)
    where = [Filter("agent_id", "==", agent_id), Filter("owner_uid", "==", owner_uid)]
    after = decode_token(page_token) if page_token else None
    if after is not None:
        where.append(Filter("created_at", "<=", after[0]))
    found: list[tuple[str, dict[str, Any]]] = []
    offset = 0
    while len(found) <= limit:  # runs created in the cursor's microsecond: skip those shown
        batch = documents.query(BACKTESTS, where, order_by="created_at", descending=True,
                                limit=limit + 1, offset=offset)
        offset += len(batch)
        found += [(i, d) for i, d in batch if after is None or (d["created_at"], i) < after]
        if len(batch) < limit + 1:
            break
    page = found[:limit]
    token = encode_token(page[-1][1]["created_at"], page[-1][0]) if len(found) > limit else None
    return RunPage([run_summary(i, d) for i, d in page], token)


def run_summary(run_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The list view of a run: request, status, the main metrics."""
    metrics = doc.get("metrics") or {}
    return {"run_id": run_id, **{k: doc.get(k) for k in SUMMARY_FIELDS}, "standard": bool(doc.get("standard")),
            "metrics": {k: metrics.get(k) for k in SUMMARY_METRICS} if metrics else None}
