"""Run one backtest job: prepare (trusted), the agent in its sandbox against the host, finish.

The job process is the trusted host: it holds the platform's stores, gives the agent's sandboxed
process nothing but its bundle and one timestamp of bars at a time, and scores the orders it
reports (`shared.harness.backtest_host`). FMEL rows go straight from the host to the warehouse
through a FmelRecorder whose spill folder outlives the job, so a failed write is replayed later.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from shared.backtest.engine import FmelContext
from shared.backtest.workspace import finish, load_run, prepare
from shared.errors import FarmError
from shared.fmel import FmelRecorder
from shared.harness.backtest_host import AgentLauncher, run_backtest
from shared.schemas.messages import BacktestCompleted

log = logging.getLogger(__name__)
# Decisions per bulk write: each write is one file (locally) or one load job (BigQuery, whose
# quota is 1,500 loads per table a day), so a daily backtest is one write, a 100k-bar one five.
BULK_BATCH = 20_000


def spill_dir(data_dir: Path, run_id: str) -> Path:
    """Where a run's unwritten FMEL rows wait for replay (kept after the job: see `replay_spills`)."""
    return data_dir / "fmel-spill" / f"backtest-{run_id}"


def run_job(run_id: str, platform: Any, launcher: AgentLauncher, work: Path) -> BacktestCompleted:
    """Prepare, run and finish one backtest; `work` is a folder this job owns (removed at the end).

    `platform` is the process's `shared.app.Application`.
    """
    run = load_run(platform.documents, run_id)
    stores = {"blobs": platform.blobs, "warehouse": platform.warehouse, "messages": platform.messages}
    try:
        try:
            prepared = prepare(run, work, documents=platform.documents, blobs=platform.blobs,
                               warehouse=platform.warehouse)
        except Exception as exc:  # any failure to start must still end the run
            log.exception("backtest %s could not be prepared", run_id)
            return finish(run, None, error=f"the backtest could not start: {exc}", **stores)
        recorder = FmelRecorder(platform.warehouse, spill_dir(Path(platform.settings.data_dir), run_id),
                                batch_size=BULK_BATCH, bulk=True)
        try:
            fmel = FmelContext(agent_id=run.agent_id, user_id=run.owner_uid, session_id=run.run_id,
                               sink=recorder.add)
            harness = run_backtest(launcher, prepared.bundle_dir, prepared.frames, scratch=work,
                                   timeframe=run.timeframe, cash=run.cash, commission=run.commission, fmel=fmel)
        except FarmError as exc:  # the run cannot be set up (no bars, no sandbox): say so
            return finish(run, None, error=exc.message, meta=prepared.meta, **stores)
        finally:
            recorder.close()
        return finish(run, harness, meta=prepared.meta, **stores)
    finally:
        shutil.rmtree(work, ignore_errors=True)
