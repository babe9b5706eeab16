"""How the host's `AgentProxy` gets the agent's replies: relayed (backtests) or exchanged (paper).

- `RelayedReplies`: the conductor delivers the frames and forwards each reply through a pipe;
  the host's run reads them one step behind, on the other core.
- `LiveExchange` (paper trading): the proxy itself sends the frame of the bars its live feeds
  just delivered, with the broker's order events and account, and waits for the reply.

Both check the reply's shape and step number; anything else is the agent breaking the channel.
"""

from __future__ import annotations

from typing import Any

from shared.harness import wire
from shared.harness.puppet import AgentFailed, AgentProxy

NO_RESULT = "the agent's process ended without finishing its run"


class RelayedReplies:
    """Replies of a backtest's agent, forwarded by the conductor in step order."""

    def __init__(self, endpoint: wire.Endpoint) -> None:
        self.endpoint = endpoint
        self.finished = False  # the agent said `done` (it may have stopped itself early)
        self.decisions_reported: int | None = None

    def wait_ready(self) -> None:
        """Return once the agent has loaded; AgentFailed with its error otherwise."""
        message = self._next()
        if message[0] != wire.READY:
            raise AgentFailed(_failure(message))

    def reply(self, proxy: AgentProxy) -> list[Any] | None:
        """The reply for `proxy`'s current step; None once the agent has finished."""
        if self.finished:
            return None
        message = self._next()
        kind = message[0]
        if kind == wire.STEP:
            if len(message) != 8 or message[1] != proxy.step_number:
                raise AgentFailed("the agent broke the channel protocol: a reply out of step")
            return message
        if kind == wire.DONE:
            self.finished = True
            self.decisions_reported = message[1] if len(message) > 1 else None
            return None
        raise AgentFailed(_failure(message))

    def drain(self) -> None:
        """After the host's run: take the agent's last word (its `done` or a late error)."""
        if self.finished:
            return
        message = self._next()
        if message[0] == wire.STEP:  # the reply to the last frame, then `done`
            message = self._next()
        if message[0] != wire.DONE:
            raise AgentFailed(_failure(message))
        self.finished = True

    def _next(self) -> list[Any]:
        try:
            message = self.endpoint.receive()
        except wire.ProtocolError as exc:
            raise AgentFailed(f"the agent broke the channel protocol: {exc}") from None
        if message is None:
            raise AgentFailed(NO_RESULT)
        return message


def _failure(message: list[Any]) -> str:
    if message[0] == wire.ERROR and len(message) > 1 and isinstance(message[1], str):
        return message[1]
    return f"the agent broke the channel protocol: unexpected {message[0]!r}"
