"""The trusted halves of a backtest job: fill a workspace before the agent runs, publish after.

The sandboxed step in between (`shared.backtest.runner.execute`) sees only the workspace
folder: no credentials, no network. Everything it writes back is untrusted: JSON only (never
pickle), and decision rows get their owner and session forced to this run's before insertion.

    request.json   the RunBacktest plus agent metadata         (trusted -> sandbox)
    bundle/        the agent's files                            (trusted -> sandbox)
    bars.pkl       one DataFrame per symbol                     (trusted -> sandbox)
    outcome.json   {"status", "error", "decisions"}             (sandbox -> trusted)
    report.json, equity.png, decisions.jsonl                    (sandbox -> trusted)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from shared.backtest.bundle import extract_bundle
from shared.backtest.report import chart_key, report_key
from shared.domain.clock import now_iso, parse_iso
from shared.errors import InvalidInputError, NotFoundError
from shared.fmel.record import TABLE as DECISIONS_TABLE
from shared.fmel.record import row_from_json
from shared.market.loader import load_bars
from shared.ports import BlobStore, DocumentStore, MessageBus, Warehouse
from shared.schemas.collections import AGENTS, BACKTESTS
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.schemas.warehouse import BACKTEST_RUNS
from shared.services.backtests import publish_completed

log = logging.getLogger(__name__)
INSERT_BATCH = 500
NO_RESULT = "the backtest job ended without a result (killed, out of memory or over its time budget)"


def read_request(workspace: Path) -> tuple[RunBacktest, dict[str, Any]]:
    """Return the run and its agent metadata from a prepared workspace."""
    body = json.loads((workspace / "request.json").read_text())
    return RunBacktest(**body["run"]), body["meta"]


def load_run(documents: DocumentStore, run_id: str) -> RunBacktest:
    """Return the RunBacktest stored on `backtests/{run_id}`; NotFoundError when absent."""
    doc = documents.get(BACKTESTS, run_id)
    if doc is None or "request" not in doc:
        raise NotFoundError(f"no backtest run {run_id!r}")
    return RunBacktest(**doc["request"])


def prepare(
    run: RunBacktest, workspace: Path, *, documents: DocumentStore, blobs: BlobStore, warehouse: Warehouse
) -> None:
    """Write the request, the agent's bundle and the bars the run needs into `workspace`."""
    agent = documents.get(AGENTS, run.agent_id)
    if agent is None or agent.get("owner_uid") != run.owner_uid:
        raise NotFoundError(f"agent {run.agent_id} of run {run.run_id} does not exist")
    workspace.mkdir(parents=True, exist_ok=True)
    extract_bundle(blobs.get(agent["bundle_key"]), workspace / "bundle")
    start, end = (datetime.combine(date.fromisoformat(d[:10]), datetime.min.time(), UTC) for d in (run.start, run.end))
    frames = load_bars(warehouse, run.symbols, start, end, run.timeframe)
    with open(workspace / "bars.pkl", "wb") as out:
        pickle.dump(frames, out, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {"agent_name": agent.get("name"), "code_hash": agent.get("code_hash"), "started_at": now_iso()}
    body = {"run": dataclasses.asdict(run), "meta": meta}
    (workspace / "request.json").write_text(json.dumps(body))


def finish(
    run: RunBacktest,
    workspace: Path,
    *,
    blobs: BlobStore,
    warehouse: Warehouse,
    messages: MessageBus,
    meta: dict[str, Any] | None = None,
    error: str | None = None,
) -> BacktestCompleted:
    """Store what the sandbox produced (or the failure) and publish `BacktestCompleted`."""
    meta = meta or {}
    outcome = _read_json(workspace / "outcome.json") or {}
    status = "succeeded" if error is None and outcome.get("status") == "succeeded" else "failed"
    error = error or (None if status == "succeeded" else str(outcome.get("error") or NO_RESULT))
    metrics: dict[str, Any] = {}
    key = None
    if status == "succeeded":
        report = _read_json(workspace / "report.json")
        if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
            status, error = "failed", "the backtest produced no readable report"
        else:
            metrics = report["metrics"] | {"decisions": outcome.get("decisions")}
            key = report_key(run.run_id)
            blobs.put(key, (workspace / "report.json").read_bytes(), content_type="application/json")
            chart = workspace / "equity.png"
            if chart.exists():
                blobs.put(chart_key(run.run_id), chart.read_bytes(), content_type="image/png")
    insert_decisions(run, workspace / "decisions.jsonl", warehouse)
    finished_at = now_iso()
    warehouse.insert_rows(BACKTEST_RUNS.ref, [_run_row(run, meta, status, metrics, error, finished_at)])
    event = BacktestCompleted(
        run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid, status=status,
        finished_at=finished_at, metrics=metrics, report_key=key, error=error,
    )
    publish_completed(messages, event)
    return event


def insert_decisions(run: RunBacktest, path: Path, warehouse: Warehouse) -> int:
    """Insert the sandbox's decision rows (owner, session and mode forced to this run's)."""
    if not path.exists():
        return 0
    forced = {"agent_id": run.agent_id, "user_id": run.owner_uid, "session_id": run.run_id, "mode": "backtest"}
    batch: list[dict[str, Any]] = []
    count = 0
    with path.open() as lines:
        for line in lines:
            if line.strip():
                batch.append(row_from_json(line) | forced)
            if len(batch) >= INSERT_BATCH:
                warehouse.insert_rows(DECISIONS_TABLE, batch)
                count, batch = count + len(batch), []
    if batch:
        warehouse.insert_rows(DECISIONS_TABLE, batch)
        count += len(batch)
    return count


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


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
    """Return `run_id` when it is safe as a document id and a blob key segment."""
    if not run_id or "/" in run_id or run_id in (".", "..") or len(run_id) > 200:
        raise InvalidInputError(f"bad run id {run_id!r}")
    return run_id
