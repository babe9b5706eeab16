"""Start the agent's side of the harness in the local bubblewrap sandbox.

The agent's folder (its bundle, and nothing else of the platform's) becomes the sandbox's only
writable place; the channel's two pipe ends are inherited under their numbers; its output goes
to the host's capped log. Nothing here falls back to an unsandboxed process: a sandbox that
cannot start raises `SandboxUnavailableError`, and the run fails saying so.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from shared.adapters.local.sandbox import (
    WORKSPACE,
    BubblewrapSandbox,
    SandboxConfig,
    SandboxLimits,
    SandboxProcess,
)

AGENT_MODULE = "shared.harness.agent_main"
TASKSET = "/usr/bin/taskset"  # util-linux, under the sandbox's read-only /usr


class SandboxedAgentLauncher:
    """An `AgentLauncher` over `BubblewrapSandbox`."""

    def __init__(self, sandbox: BubblewrapSandbox | None = None, limits: SandboxLimits | None = None) -> None:
        self.sandbox = sandbox or BubblewrapSandbox()
        # The agent reads its bundle and writes only to its capped /tmp: no disk to fill.
        self.limits = dataclasses.replace(limits or SandboxLimits(), workspace_writable=False)

    @classmethod
    def for_data_dir(cls, data_dir: Path, limits: SandboxLimits | None = None) -> SandboxedAgentLauncher:
        """A launcher whose sandboxes never see `data_dir` (keys, bundles, stores), wherever it is."""
        hidden = (*SandboxConfig().hidden, Path(data_dir).resolve())
        return cls(BubblewrapSandbox(SandboxConfig(hidden=hidden)), limits)

    def start(self, *, bundle_dir: Path, output_fd: int, cpu: int | None = None) -> tuple[SandboxProcess, int, int]:
        """Start the agent with `bundle_dir`'s parent as its workspace; return it and the host's fds."""
        read_fd, to_agent = os.pipe()  # two pipes: a pipe's round trip is about half a socket's
        from_agent, write_fd = os.pipe()
        try:
            argv = self.sandbox.python_argv(AGENT_MODULE, "--in", str(read_fd), "--out", str(write_fd),
                                            "--bundle", f"{WORKSPACE}/{bundle_dir.name}")
            if cpu is not None:  # taskset inside: affinity is inherited by all the agent starts
                argv = [TASKSET, "-c", str(cpu), *argv]
            process = self.sandbox.popen(argv, workspace=bundle_dir.parent, limits=self.limits,
                                         pass_fds=(read_fd, write_fd), stdout=output_fd, stderr=output_fd)
            # Once the agent's command runs, the sandbox dies with this host; a failed setup is
            # a clear error here, before any bar is sent.
            process.wait_started()
        except BaseException:
            os.close(to_agent)
            os.close(from_agent)
            raise
        finally:
            os.close(read_fd)
            os.close(write_fd)
        return process, to_agent, from_agent

