"""The trusted halves of a backtest job: gather what the run needs, then store what it earned.

`prepare` loads the run, unpacks the agent's bundle into the folder the sandbox will see (the
only thing the agent gets besides the bars the host delivers one timestamp at a time) and loads
the bars. `finish` stores the host's result: the report, the chart and the metrics all come from
the trusted side (`shared.harness.backtest_host`), never from a file the agent could write.

    <work>/agent/bundle/    the agent's files (the sandbox's only view of the disk, read-write)
    <work>/frames.bin       the encoded bars, trusted side only, deleted after the run
    <work>/agent-output.log the agent's own output, capped (stored as a blob for its owner)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from shared.backtest.bundle import extract_bundle
from shared.backtest.report import (
    build_report,
    chart_key,
    encode_report,
    output_key,
    render_chart,
    report_key,
)
from shared.domain.clock import now_iso, parse_iso
from shared.errors import InvalidInputError, NotFoundError
from shared.harness.backtest_host import HarnessRun
from shared.market.loader import load_bars
from shared.ports import BlobStore, DocumentStore, MessageBus, Warehouse
from shared.schemas.collections import AGENTS, BACKTESTS
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.schemas.warehouse import BACKTEST_RUNS
from shared.services.backtests import publish_completed

log = logging.getLogger(__name__)
NO_RESULT = "the backtest job ended without a result (killed, out of memory or over its time budget)"


@dataclass
class Prepared:
    """What a run needs before the agent starts."""

    bundle_dir: Path
    frames: dict[str, pd.DataFrame]
    meta: dict[str, Any]


def load_run(documents: DocumentStore, run_id: str) -> RunBacktest:
    """Return the RunBacktest stored on `backtests/{run_id}`; NotFoundError when absent."""
    doc = documents.get(BACKTESTS, run_id)
    if doc is None or "request" not in doc:
        raise NotFoundError(f"no backtest run {run_id!r}")
    return RunBacktest(**doc["request"])


def prepare(
    run: RunBacktest, work: Path, *, documents: DocumentStore, blobs: BlobStore, warehouse: Warehouse
) -> Prepared:
    """Unpack the agent's bundle under `work/agent` and load the run's bars."""
    agent = documents.get(AGENTS, run.agent_id)
    if agent is None or agent.get("owner_uid") != run.owner_uid:
        raise NotFoundError(f"agent {run.agent_id} of run {run.run_id} does not exist")
    bundle_dir = extract_bundle(blobs.get(agent["bundle_key"]), work / "agent" / "bundle")
    start, end = (datetime.combine(date.fromisoformat(d[:10]), datetime.min.time(), UTC) for d in (run.start, run.end))
    frames = load_bars(warehouse, run.symbols, start, end, run.timeframe)
    meta = {"agent_name": agent.get("name"), "code_hash": agent.get("code_hash"), "started_at": now_iso()}
    return Prepared(bundle_dir, frames, meta)


def finish(
    run: RunBacktest,
    harness: HarnessRun | None,
    *,
    blobs: BlobStore,
    warehouse: Warehouse,
    messages: MessageBus,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
) -> BacktestCompleted:
    """Store the host's result (or the failure) and publish `BacktestCompleted`."""
    meta = meta or {}
    finished_at = now_iso()
    result = harness.result if harness is not None else None
    error = error or (harness.error if harness is not None else None) or (None if result else NO_RESULT)
    status: Literal["succeeded", "failed"] = "succeeded" if error is None and result is not None else "failed"
    metrics: dict[str, Any] = {}
    key = None
    if harness is not None and harness.output:
        blobs.put(output_key(run.run_id), harness.output.encode(), content_type="text/plain; charset=utf-8")
    if status == "succeeded" and result is not None:
        report = build_report(run, result, started_at=meta.get("started_at", ""), finished_at=finished_at)
        metrics = report["metrics"] | {"decisions": result.decisions}
        key = report_key(run.run_id)
        blobs.put(key, encode_report(report), content_type="application/json")
        blobs.put(chart_key(run.run_id), render_chart(report), content_type="image/png")
    warehouse.insert_rows(BACKTEST_RUNS.ref, [_run_row(run, meta, status, metrics, error, finished_at)])
    event = BacktestCompleted(
        run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid, status=status,
        finished_at=finished_at, metrics=metrics, report_key=key, error=error,
    )
    publish_completed(messages, event)
    return event


def _run_row(
    run: RunBacktest, meta: dict[str, Any], status: str, metrics: dict[str, Any], error: str | None, finished_at: str
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run.run_id, "agent_id": run.agent_id, "user_id": run.owner_uid,
        "agent_name": meta.get("agent_name"), "code_hash": meta.get("code_hash"), "status": status,
        "symbols": list(run.symbols), "timeframe": run.timeframe,
        "start_date": date.fromisoformat(run.start[:10]), "end_date": date.fromisoformat(run.end[:10]),
        "cash": run.cash, "commission": run.commission,
        "started_at": parse_iso(meta["started_at"]) if meta.get("started_at") else None,
        "finished_at": parse_iso(finished_at), "error": error,
    }
    columns = {c.name for c in BACKTEST_RUNS.columns}
    for name, value in metrics.items():
        if name in columns and name not in row:
            row[name] = value
    return row


def check_run_id(run_id: str) -> str:
    """Return `run_id` when it is safe as a document id, a blob key segment and a folder name."""
    if not run_id or "/" in run_id or run_id in (".", "..") or len(run_id) > 200 or "\0" in run_id:
        raise InvalidInputError(f"bad run id {run_id!r}")
    return run_id
