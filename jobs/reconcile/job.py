"""Run one reconciliation: gather both FMEL streams (replaying a paper session), diff, store.

The job is trusted (like the backtest job): it reads the session, its FMEL rows and the
archived bars, replays the agent sandboxed (jobs.reconcile.replay), and stores the report, the
chart and the summary on `reconciliations/{id}`. A reconciliation already finished is left
alone, so a job started twice for the same id stores one result.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from jobs.reconcile.replay import BrokerModel, ReplayIdentity, replay_session
from runtime.brokers.replay import AccountMemory
from shared.backtest.bundle import extract_bundle
from shared.domain.clock import parse_iso
from shared.harness.backtest_host import AgentLauncher
from shared.reconcile import bars as barsmod
from shared.reconcile.decisions import decisions_from_rows
from shared.reconcile.diff import DiffResult, diff
from shared.reconcile.figures import equity, render_chart, summary
from shared.schemas.collections import AGENTS, RECONCILIATIONS, SESSIONS
from shared.services import reconciliations as service

log = logging.getLogger(__name__)
ROWS_SQL = "SELECT * FROM fmel.decisions WHERE session_id = @session_id ORDER BY decision_point"
SHOWN = 20  # divergences kept on the document; the report has them all


def run_reconciliation(reconciliation_id: str, platform: Any, launcher: AgentLauncher, work: Path) -> dict[str, Any]:
    """Reconcile, store the outcome, return the document's new fields (`platform`: a Platform)."""
    doc = platform.documents.get(RECONCILIATIONS, reconciliation_id)
    if doc is None:
        raise LookupError(f"no reconciliation {reconciliation_id!r}")
    if doc.get("status") in service.FINAL:
        log.info("reconciliation %s is already %s", reconciliation_id, doc["status"])
        return {}
    work.mkdir(parents=True, exist_ok=True)
    try:
        if doc["kind"] == "backtests":
            outcome = _backtests(reconciliation_id, doc, platform)
        else:
            outcome = _paper(reconciliation_id, doc, platform, launcher, work)
    except Exception as exc:  # any failure must still end the reconciliation
        log.exception("reconciliation %s failed", reconciliation_id)
        service.finish_reconciliation(platform.documents, reconciliation_id, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result, error = outcome
    service.finish_reconciliation(platform.documents, reconciliation_id, result=result, error=error)
    return result


def _paper(rid: str, doc: dict[str, Any], platform: Any, launcher: AgentLauncher,
           work: Path) -> tuple[dict[str, Any], str | None]:
    session = platform.documents.get(SESSIONS, doc["session_id"]) or {}
    agent = platform.documents.get(AGENTS, doc["agent_id"]) or {}
    raw = _rows(platform.warehouse, doc["session_id"])
    if not raw:
        return {}, f"session {doc['session_id']} has no recorded decision yet"
    paper = decisions_from_rows(raw)
    recorded = [barsmod.as_utc(r["recorded_at"]) for r in raw]
    runs = barsmod.split_runs(paper, recorded, [parse_iso(r["started_at"]) for r in session.get("runs") or ()])
    symbols, timeframe = list(session["symbols"]), session["timeframe"]
    archived = barsmod.load_archive(platform.warehouse, symbols, timeframe, runs[0].first, runs[-1].last)
    cited = {h for d in paper for _, h in d.bars}
    frames = [(run.first_point, barsmod.replay_frames(archived, symbols, cited, run.first, run.last)) for run in runs]
    first = raw[0]
    account = AccountMemory(float(session.get("starting_value") or first["cash"]),
                            {p["symbol"]: {"size": float(p["size"]), "price": float(p["price"])}
                             for p in first.get("positions") or () if p.get("size")})
    model = BrokerModel(**{k: float(v) for k, v in (session.get("broker") or {}).items()
                           if k in ("slippage", "commission", "participation")})
    bundle_dir = extract_bundle(platform.blobs.get(agent["bundle_key"]), work / "agent" / "bundle")
    replay = replay_session(launcher, bundle_dir, frames, symbols=symbols, timeframe=timeframe, account=account,
                            broker=model, identity=ReplayIdentity(agent_id=doc["agent_id"], user_id=doc["owner_uid"],
                                                                  session_id=rid), scratch=work)
    if replay.error is not None:
        return {}, f"the replay of the agent failed: {replay.error}"
    index = barsmod.archive_index(archived)
    result = diff(paper, decisions_from_rows(replay.rows), archive=index,
                  segment_starts=[run.first for run in runs], names=("paper", "replay"))
    findings = {
        "runs": [{"first_bar": r.first.isoformat(), "last_bar": r.last.isoformat(), "first_point": r.first_point,
                  "decisions": r.decisions} for r in runs],
        "bars_between_runs": barsmod.between_runs(archived, runs)[:100],
        "cited_bars_not_archived": sorted(h for h in cited if h not in index)[:100],
        "broker": vars(model), "starting_cash": account.document["cash"],
        "replay_seconds": round(replay.seconds, 3), "replay_violations": replay.violations,
    }
    title = f"Reconciliation {rid}: paper session {doc['session_id']} vs its replay"
    return _store(platform, rid, doc, result, ("paper", "replay"), title, findings), None


def _backtests(rid: str, doc: dict[str, Any], platform: Any) -> tuple[dict[str, Any], str | None]:
    baseline, compared = doc["run_ids"]
    left = decisions_from_rows(_rows(platform.warehouse, baseline))
    right = decisions_from_rows(_rows(platform.warehouse, compared))
    if not left or not right:
        return {}, f"no recorded decisions for {baseline if not left else compared}"
    result = diff(left, right, names=(baseline, compared))
    title = f"Reconciliation {rid}: backtest {baseline} vs {compared}"
    return _store(platform, rid, doc, result, (baseline, compared), title, {}), None


def _store(platform: Any, rid: str, doc: dict[str, Any], result: DiffResult, names: tuple[str, str], title: str,
           findings: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    figures = summary(result, names)
    curve = equity(result.pairs)
    divergences = [d.as_dict() for d in result.divergences]
    report = {"reconciliation_id": rid, "agent_id": doc["agent_id"], "kind": doc["kind"], "names": list(names),
              "summary": figures, "findings": findings, "divergences": divergences, "equity": curve}
    report_key, chart_key = service.report_key(rid), service.chart_key(rid)
    platform.blobs.put(report_key, json.dumps(report, separators=(",", ":"), default=str).encode(),
                       content_type="application/json")
    platform.blobs.put(chart_key, render_chart(title, curve, divergences, names), content_type="image/png")
    log.info("reconciliation %s stored in %.2fs", rid, time.perf_counter() - started)
    return {"summary": figures, "first_divergences": divergences[:SHOWN], "findings": findings,
            "report_key": report_key, "chart_key": chart_key}


def _rows(warehouse: Any, session_id: str) -> list[dict[str, Any]]:
    """The session's FMEL rows, one per decision point (a replayed batch may repeat some)."""
    seen: set[int] = set()
    out = []
    for row in warehouse.query(ROWS_SQL, {"session_id": session_id}):
        point = int(row["decision_point"])
        if row.get("session_id", session_id) == session_id and point not in seen:
            seen.add(point)
            out.append(row)
    return out

