"""A stand-in job for LocalJobLauncher tests: `python -m tests.unit.backtest.sandbox_probe --run-id R`.

`R` chooses the behaviour: `report-*` writes the environment and rlimits it got to
$FARM_DATA_DIR/probe-R.json and exits 0; `loop-*` starts a grandchild and spins forever;
`crash-*` exits 3.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path


def main() -> int:
    run_id = sys.argv[sys.argv.index("--run-id") + 1]
    out = Path(os.environ["FARM_DATA_DIR"]) / f"probe-{run_id}.json"
    if run_id.startswith("report"):
        limits = {name: resource.getrlimit(getattr(resource, name)) for name in
                  ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_NPROC")}
        out.write_text(json.dumps({"env": dict(os.environ), "limits": limits, "pgid": os.getpgid(0),
                                   "pid": os.getpid()}))
        return 0
    if run_id.startswith("loop"):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        out.write_text(json.dumps({"grandchild": child.pid}))
        while True:
            pass
    return 3


if __name__ == "__main__":
    sys.exit(main())
