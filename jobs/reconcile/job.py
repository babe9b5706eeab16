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
from datetime import datetime
from pathlib import Path
from typing import Any

from jobs.reconcile.replay import BrokerModel, ReplayIdentity, replay_session
from shared.backtest.bundle import extract_bundle
from shared.domain.clock import parse_iso
from shared.harness.backtest_host import AgentLauncher
from shared.reconcile import bars as barsmod
from shared.reconcile.decisions import Decision, decisions_from_rows
from shared.reconcile.diff import DiffResult, diff
from shared.reconcile.figures import equity, render_chart, summary
from shared.schemas.collections import AGENTS, RECONCILIATIONS, SESSIONS
from shared.services import reconciliations as service
from shared.venues.simulated.replay import AccountMemory

log = logging.getLogger(__name__)
# Nested columns travel as JSON text: parsing it is cheaper than converting nested values one by one.
NESTED = ("actions", "data_accessed", "positions", "indicators")
COLUMNS = "decision_point, bar_time, recorded_at, stage, portfolio_value, cash, note, " + ", ".join(
    f"TO_JSON_STRING({c}) AS {c}" for c in NESTED)
ROWS_SQL = f"SELECT {COLUMNS} FROM fmel.decisions WHERE session_id = @session_id ORDER BY decision_point"
MARKS_SQL = ("SELECT decision_point, bar_time, recorded_at FROM fmel.decisions WHERE session_id = @session_id "
             "ORDER BY decision_point")
FIRST_SQL = ("SELECT cash, positions FROM fmel.decisions WHERE session_id = @session_id "
             "AND decision_point = @point LIMIT 1")
SHOWN = 20  # divergences kept on the document; the report has them all


def run_reconciliation(reconciliation_id: str, platform: Any, launcher: AgentLauncher, work: Path) -> dict[str, Any]:
    """Reconcile, store the outcome, return the document's new fields (`platform`: the Application)."""
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
    clock = time.perf_counter()
    session = platform.documents.get(SESSIONS, doc["session_id"]) or {}
    agent = platform.documents.get(AGENTS, doc["agent_id"]) or {}
    sid = doc["session_id"]
    marks = _marks(platform.warehouse, sid)
    if not marks:
        return {}, f"session {sid} has no recorded decision yet"
    runs = barsmod.split_runs(marks, [parse_iso(r["started_at"]) for r in session.get("runs") or ()])
    symbols, timeframe = list(session["symbols"]), session["timeframe"]
    archived = barsmod.load_archive(platform.warehouse, symbols, timeframe, runs[0].first, runs[-1].last)
    # The session's own rows are needed before the replay only when the archive holds two bars
    # for one time (which one the session got); otherwise they load while the agent's sandbox
    # starts (its interpreter importing backtrader on the other core).
    loaded_rows: list[Decision] = []

    def load() -> None:
        if not loaded_rows:
            loaded_rows.extend(decisions_from_rows(_rows(platform.warehouse, sid)))

    if barsmod.duplicated(archived):
        load()
    cited = {h for d in loaded_rows for _, h in d.bars}
    frames = [(run.first_point, barsmod.replay_frames(archived, symbols, cited, run.first, run.last)) for run in runs]
    first = (platform.warehouse.query(FIRST_SQL, {"session_id": sid, "point": marks[0][0]}) or [{}])[0]
    account = AccountMemory(float(session.get("starting_value") or first.get("cash") or 0.0),
                            {p["symbol"]: {"size": float(p["size"]), "price": float(p["price"])}
                             for p in first.get("positions") or () if p.get("size")})
    model = BrokerModel(**{k: float(v) for k, v in (session.get("broker") or {}).items()
                           if k in ("slippage", "commission", "participation")})
    bundle_dir = extract_bundle(platform.blobs.get(agent["bundle_key"]), work / "agent" / "bundle")
    loaded = time.perf_counter() - clock
    replay = replay_session(launcher, bundle_dir, frames, symbols=symbols, timeframe=timeframe, account=account,
                            broker=model, identity=ReplayIdentity(agent_id=doc["agent_id"], user_id=doc["owner_uid"],
                                                                  session_id=rid), scratch=work, while_starting=load)
    if replay.error is not None:
        return {}, f"the replay of the agent failed: {replay.error}"
    clock = time.perf_counter()
    load()  # when the replay had nothing to start
    paper = loaded_rows
    cited = {h for d in paper for _, h in d.bars}
    index = barsmod.archive_index(archived)
    result = diff(paper, decisions_from_rows(replay.rows), archive=index,
                  segment_starts=[run.first for run in runs], names=("paper", "replay"))
    compared = time.perf_counter() - clock
    findings = {
        "runs": [{"first_bar": r.first.isoformat(), "last_bar": r.last.isoformat(), "first_point": r.first_point,
                  "decisions": r.decisions} for r in runs],
        "bars_between_runs": barsmod.between_runs(archived, runs)[:100],
        "cited_bars_not_archived": sorted(h for h in cited if h not in index)[:100],
        "broker": vars(model), "starting_cash": account.document["cash"],
        "replay_violations": replay.violations, "replay_seconds": round(replay.seconds, 3),
        "load_seconds": round(loaded, 3), "diff_seconds": round(compared, 3),
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
    findings["store_seconds"] = round(time.perf_counter() - started, 3)
    log.info("reconciliation %s stored in %.2fs", rid, findings["store_seconds"])
    return {"summary": figures, "first_divergences": divergences[:SHOWN], "findings": findings,
            "report_key": report_key, "chart_key": chart_key}


def _rows(warehouse: Any, session_id: str, sql: str = ROWS_SQL) -> list[dict[str, Any]]:
    """The session's FMEL rows, one per decision point (a replayed batch may repeat some)."""
    seen: set[int] = set()
    out = []
    for row in warehouse.query(sql, {"session_id": session_id}):
        point = int(row["decision_point"])
        if point not in seen:
            seen.add(point)
            for column in NESTED:
                if isinstance(row.get(column), str):
                    row[column] = json.loads(row[column])
            out.append(row)
    return out


def _marks(warehouse: Any, session_id: str) -> list[tuple[int, datetime, datetime]]:
    """(point, bar time, recorded at) of every decision of the session, in point order."""
    return [(int(r["decision_point"]), barsmod.as_utc(r["bar_time"]), barsmod.as_utc(r["recorded_at"]))
            for r in _rows(warehouse, session_id, MARKS_SQL)]
