"""Entry point of the backtest job (local subprocess and Cloud Build steps alike).

    python -m jobs.backtest --run-id RUN                      # everything, one process (local)
    python -m jobs.backtest --run-id RUN --phase prepare  --workspace /workspace/run   # trusted
    python -m jobs.backtest --run-id RUN --phase execute  --workspace /workspace/run   # sandboxed
    python -m jobs.backtest --run-id RUN --phase finish   --workspace /workspace/run   # trusted

The execute phase needs no settings and builds no port: it reads and writes the workspace only.
Exit codes: 0 when a result was published (a failed backtest included), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the requested phase."""
    parser = argparse.ArgumentParser(prog="python -m jobs.backtest", description=__doc__)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--phase", choices=("all", "prepare", "execute", "finish"), default="all")
    parser.add_argument("--workspace", type=Path, default=None, help="required for split phases")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.phase != "all" and args.workspace is None:
        parser.error("--workspace is required with --phase prepare|execute|finish")

    from shared.backtest import runner, workspace
    from shared.backtest.workspace import check_run_id

    run_id = check_run_id(args.run_id)
    if args.phase == "execute":
        runner.execute(args.workspace)
        return 0
    from shared.bootstrap import bootstrap

    platform = bootstrap()
    try:
        if args.phase == "all":
            runner.run_job(run_id, platform)
        elif args.phase == "prepare":
            run = workspace.load_run(platform.documents, run_id)
            workspace.prepare(
                run, args.workspace, documents=platform.documents, blobs=platform.blobs,
                warehouse=platform.warehouse,
            )
        else:
            error = None
            try:
                run, meta = workspace.read_request(args.workspace)
            except OSError:  # prepare never finished: still end the run, as failed
                run, meta = workspace.load_run(platform.documents, run_id), {}
                error = "the backtest could not start (no prepared workspace)"
            workspace.finish(
                run, args.workspace, blobs=platform.blobs, warehouse=platform.warehouse,
                messages=platform.messages, meta=meta, error=error,
            )
    finally:
        for name in ("documents", "messages", "warehouse", "blobs"):
            close = getattr(getattr(platform, name), "close", None)
            if callable(close):
                close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
