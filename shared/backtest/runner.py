"""Run one backtest: the sandboxed `execute` step and the whole local job around it.

`execute` reads only its workspace (see `shared.backtest.workspace`), imports the user's
`Agent`, runs the engine with FMEL on (mode backtest, session = run id), and writes the
report, the chart and the outcome. A user exception becomes a failed outcome carrying the
traceback of the agent's own frames; anything that kills the process (budget, memory) leaves
no outcome, which the trusted side reports as a failure. So a run never stays `running`.
"""

from __future__ import annotations

import json
import logging
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.backtest.bundle import load_agent, user_traceback
from shared.backtest.engine import FmelContext, run_strategy
from shared.backtest.report import build_report, encode_report, render_chart
from shared.backtest.workspace import finish, load_run, prepare, read_request
from shared.domain.clock import now_iso
from shared.fmel import FmelRecorder
from shared.fmel.record import row_to_json
from shared.schemas.messages import BacktestCompleted

log = logging.getLogger(__name__)
Row = dict[str, Any]


def execute(workspace: Path, sink: Callable[[Row], None] | None = None) -> dict[str, Any]:
    """Run the prepared backtest in `workspace`; return (and write) its outcome.

    Decision rows go to `sink` when given (e.g. a FmelRecorder's `add`), else to
    `decisions.jsonl` in the workspace for the trusted step to insert.
    """
    run, meta = read_request(workspace)
    bundle_dir = workspace / "bundle"
    jsonl = None
    if sink is None:
        jsonl = (workspace / "decisions.jsonl").open("w")
        sink = lambda row: jsonl.write(row_to_json(row) + "\n")  # one line; the file is closed below
    try:
        with open(workspace / "bars.pkl", "rb") as source:
            frames = pickle.load(source)  # written by the trusted prepare step, never by the agent
        fmel = FmelContext(agent_id=run.agent_id, user_id=run.owner_uid, session_id=run.run_id, sink=sink)
        agent = load_agent(bundle_dir)
        result = run_strategy(
            agent, frames, timeframe=run.timeframe, cash=run.cash, commission=run.commission, fmel=fmel
        )
    except Exception as exc:  # noqa: BLE001 - whatever the agent raises is its failure, not ours
        outcome = {"status": "failed", "error": user_traceback(exc, bundle_dir), "decisions": None}
    else:
        report = build_report(run, result, started_at=meta.get("started_at", ""), finished_at=now_iso())
        (workspace / "report.json").write_bytes(encode_report(report))
        (workspace / "equity.png").write_bytes(render_chart(report))
        outcome = {"status": "succeeded", "error": None, "decisions": result.decisions}
    finally:
        if jsonl is not None:
            jsonl.close()
    (workspace / "outcome.json").write_text(json.dumps(outcome))
    return outcome


def run_job(run_id: str, platform: Any, workspace: Path | None = None) -> BacktestCompleted:
    """Prepare, execute and finish one run in this process (the local job's body).

    `platform` is a `shared.bootstrap.Platform`. FMEL rows go straight to the warehouse
    through a FmelRecorder (batched, spilled on failure) rather than through a file.
    """
    with tempfile.TemporaryDirectory(prefix=f"farm-backtest-{run_id}-") as temp:
        workspace = workspace or Path(temp)
        run = load_run(platform.documents, run_id)
        try:
            prepare(run, workspace, documents=platform.documents, blobs=platform.blobs, warehouse=platform.warehouse)
        except Exception as exc:  # any failure to start must still end the run
            log.exception("backtest %s could not be prepared", run_id)
            return finish(
                run, workspace, blobs=platform.blobs, warehouse=platform.warehouse, messages=platform.messages,
                error=f"the backtest could not start: {exc}",
            )
        _, meta = read_request(workspace)
        recorder = FmelRecorder(platform.warehouse, workspace / "fmel-spill")
        try:
            execute(workspace, sink=recorder.add)
        finally:
            recorder.close()
        return finish(
            run, workspace, blobs=platform.blobs, warehouse=platform.warehouse, messages=platform.messages, meta=meta
        )
