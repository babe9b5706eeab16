"""A stand-in runtime for the orchestrator contract suite: `python -m tests.contract.orchestrator_runtime`.

Takes the real runtime's arguments (`--session-id ID --supervisor-pid PID`), then runs until it
is stopped: SIGTERM exits 0 (a graceful stop), SIGUSR1 exits 3 (a crash the test provokes). Once
its handlers are in place it writes `$FARM_DATA_DIR/ready/<pid>`, so a test never signals it
before it can answer. It leaves when its supervisor is gone, as the real runtime does.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

CRASH_EXIT_CODE = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--supervisor-pid", type=int, required=True)
    args, _ = parser.parse_known_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGUSR1, lambda *_: os._exit(CRASH_EXIT_CODE))
    ready = Path(os.environ["FARM_DATA_DIR"]) / "ready"
    ready.mkdir(parents=True, exist_ok=True)
    (ready / str(os.getpid())).write_text(args.session_id)
    while not stopped.wait(0.2):
        if os.getppid() != args.supervisor_pid:
            sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
