"""Reach an agent started by someone else (Cloud Build's no-network `agent` step) through FIFOs.

The trusted `host` step and the sandboxed `agent` step share only a folder of the build's
workspace. The host makes two named pipes there; the agent step opens them as its channel
(`python -m shared.harness.agent_main --in-path DIR/to-agent --out-path DIR/from-agent`). The
agent's output stays in its own step's log; its end is seen as the channel closing.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

TO_AGENT, FROM_AGENT = "to-agent", "from-agent"


class RemoteAgent:
    """The agent as the host sees it when it runs in another step: no process, only a channel."""

    pid = -1
    returncode: int | None = 0

    def wait(self, timeout: float | None = None) -> int:
        """The other step ends on its own (or with the build's timeout)."""
        return 0

    def poll(self) -> int | None:
        """As `wait`."""
        return 0

    def kill(self) -> None:
        """Nothing to kill from here: closing the channel ends it."""


class FifoAgentLauncher:
    """An `AgentLauncher` whose agent the build starts; the channel is two FIFOs in `folder`."""

    def __init__(self, folder: Path, open_timeout_s: float = 600.0) -> None:
        self.folder = folder
        self.open_timeout_s = open_timeout_s

    def start(self, *, bundle_dir: Path, output_fd: int, cpu: int | None = None) -> tuple[RemoteAgent, int, int]:
        """Make the FIFOs, wait for the agent step to open them; return (agent, to-agent, from-agent)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in (TO_AGENT, FROM_AGENT):
            if not (self.folder / name).exists():
                os.mkfifo(self.folder / name)
            os.chmod(self.folder / name, 0o666)  # the agent step runs as another uid (not the umask's)
        deadline = time.monotonic() + self.open_timeout_s
        from_agent = os.open(self.folder / FROM_AGENT, os.O_RDONLY | os.O_NONBLOCK)
        while True:  # opening for writing fails with ENXIO until the agent has opened its end
            try:
                to_agent = os.open(self.folder / TO_AGENT, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:
                if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                    os.close(from_agent)
                    raise TimeoutError("the agent step never opened its channel") from exc
                time.sleep(0.05)
        for fd in (to_agent, from_agent):
            os.set_blocking(fd, True)
        return RemoteAgent(), to_agent, from_agent
