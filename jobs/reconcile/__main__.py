"""Entry point of the reconciliation job (a local subprocess, or a Cloud Build like the backtest's).

    python -m jobs.reconcile --reconciliation-id RC                    # local: the agent in bubblewrap
    python -m jobs.reconcile --reconciliation-id RC --agent-fifos DIR  # Cloud Build's `agent` step

This process is trusted (docs/trust-boundary.md): it reads the session, its decisions and the
archived bars, replays the agent in its sandbox, and stores the report. Exit code 0 when the
outcome (a failed reconciliation included) was stored, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the job."""
    parser = argparse.ArgumentParser(prog="python -m jobs.reconcile", description=__doc__)
    parser.add_argument("--reconciliation-id", "--run-id", dest="reconciliation_id", required=True,
                        help="the reconciliation (job launchers pass it as --run-id)")
    parser.add_argument("--agent-fifos", type=Path, default=None,
                        help="serve an agent started elsewhere through FIFOs in this folder (one run only)")
    parser.add_argument("--work", type=Path, default=None,
                        help="the job's folder (default: a temporary one, never under the data dir, which "
                             "the agent's read-only sandbox must not see)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from jobs.reconcile.job import run_reconciliation
    from shared.app import Application
    from shared.backtest.workspace import check_run_id
    from shared.harness.job_launchers import job_agent_launcher

    reconciliation_id = check_run_id(args.reconciliation_id)
    platform = Application()  # every port built on first use, all closed at the end
    work = args.work or Path(tempfile.mkdtemp(prefix=f"reconcile-{reconciliation_id}-"))
    launcher = job_agent_launcher(platform.settings, args.agent_fifos)
    try:
        run_reconciliation(reconciliation_id, platform, launcher, work)
    except Exception:  # noqa: BLE001 - stored as failed by run_reconciliation; logged there
        return 1
    finally:
        platform.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
