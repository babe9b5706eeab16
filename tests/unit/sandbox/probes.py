"""Run the hostile probe (`sandbox_probe`) in a sandbox and read its one-line JSON report."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.adapters.local.sandbox import BubblewrapSandbox, SandboxLimits, SandboxProcess

PROBE_PACKAGE = Path(__file__).parent / "sandbox_probe"


@dataclass(frozen=True)
class Project:
    """A stand-in for the project root: source packages, and `.farm/` holding secrets."""

    root: Path
    source: Path
    data: Path
    signing_key: Path
    bundle: Path


def start_probe(sandbox: BubblewrapSandbox, workspace: Path, *args: str,
                limits: SandboxLimits | None = None, pass_fds: Sequence[int] = (),
                env: dict[str, str] | None = None) -> SandboxProcess:
    """Start the probe with `args` in a new sandbox, stdout piped, stderr merged into it."""
    return sandbox.popen(sandbox.python_argv("sandbox_probe", *args), workspace=workspace,
                         limits=limits or SandboxLimits(), pass_fds=pass_fds, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def run_probe(sandbox: BubblewrapSandbox, workspace: Path, *args: str, **options: object) -> dict:
    """Run the probe to its end; return its JSON report (the test fails on any other output)."""
    process = start_probe(sandbox, workspace, *args, **options)  # type: ignore[arg-type]
    out, _ = process.communicate(timeout=60)
    text = out.decode(errors="replace").strip()
    assert process.returncode == 0, f"probe {args} exited {process.returncode}: {text[-2000:]}"
    return json.loads(text.splitlines()[-1])
