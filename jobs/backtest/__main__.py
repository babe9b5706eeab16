"""Entry point of the backtest job (the local subprocess and the Cloud Build `host` step alike).

    python -m jobs.backtest --run-id RUN                       # local: the agent in bubblewrap
    python -m jobs.backtest --run-id RUN --agent-fifos DIR     # Cloud Build: the agent is the
                                                               # no-network `agent` step, reached
                                                               # through two FIFOs in DIR

This process is the trusted host (docs/trust-boundary.md): it prepares the run, serves the
agent its bars one timestamp at a time, scores its orders, writes FMEL and publishes the result.
Exit codes: 0 when a result was published (a failed backtest included), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the job."""
    parser = argparse.ArgumentParser(prog="python -m jobs.backtest", description=__doc__)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--agent-fifos", type=Path, default=None,
                        help="serve an agent started elsewhere through FIFOs in this folder")
    parser.add_argument("--work", type=Path, default=None, help="the job's folder (default: under the data dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from shared.app import Application
    from shared.backtest.runner import run_job
    from shared.backtest.workspace import check_run_id
    from shared.harness.job_launchers import job_agent_launcher

    run_id = check_run_id(args.run_id)
    platform = Application()  # every port built on first use, all closed at the end
    work = args.work or Path(platform.settings.data_dir) / "jobs" / "work" / run_id
    launcher = job_agent_launcher(platform.settings, args.agent_fifos)
    try:
        run_job(run_id, platform, launcher, work)
    finally:
        platform.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
