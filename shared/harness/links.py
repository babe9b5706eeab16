"""How the host's `AgentProxy` gets the agent's replies: relayed (backtests) or exchanged (paper).

- `RelayedReplies`: the conductor delivers the frames and forwards each reply through a pipe;
  the host's run reads them one step behind, on the other core.
- `LiveExchange` (paper trading): the proxy itself sends the frame of the bars its live feeds
  just delivered, with the broker's order events and account, and waits for the reply.

Both check the reply's shape and step number; anything else is the agent breaking the channel.
"""

from __future__ import annotations

import select
from typing import Any

from shared.harness import wire
from shared.harness.puppet import AgentFailed, AgentProxy

NO_RESULT = "the agent's process ended without finishing its run"


class _Link:
    """What both links share: the `ready` handshake, reading a message, checking a step's reply."""

    def __init__(self, endpoint: wire.Endpoint) -> None:
        self.endpoint = endpoint
        self.finished = False  # the agent said `done` (it may have stopped itself early)

    def wait_ready(self) -> None:
        """Return once the agent has loaded; AgentFailed with its error otherwise."""
        message = self._next()
        if message[0] != wire.READY:
            raise AgentFailed(_failure(message))

    def _answer(self, message: list[Any], proxy: AgentProxy) -> list[Any] | None:
        """The step reply in `message` for `proxy`'s current step, or None once the agent is done."""
        if message[0] == wire.STEP:
            if len(message) != 8 or message[1] != proxy.step_number:
                raise AgentFailed("the agent broke the channel protocol: a reply out of step")
            return message
        if message[0] == wire.DONE:
            self.finished = True
            return None
        raise AgentFailed(_failure(message))

    def _next(self) -> list[Any]:
        try:
            message = self.endpoint.receive()
        except wire.ProtocolError as exc:
            raise AgentFailed(f"the agent broke the channel protocol: {exc}") from None
        if message is None:
            raise AgentFailed(NO_RESULT)
        return message


class RelayedReplies(_Link):
    """Replies of a backtest's agent, forwarded by the conductor in step order."""

    def reply(self, proxy: AgentProxy) -> list[Any] | None:
        """The reply for `proxy`'s current step; None once the agent has finished."""
        return None if self.finished else self._answer(self._next(), proxy)

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


def _failure(message: list[Any]) -> str:
    if message[0] == wire.ERROR and len(message) > 1 and isinstance(message[1], str):
        return message[1]
    return f"the agent broke the channel protocol: unexpected {message[0]!r}"


class LiveExchange(_Link):
    """Paper trading: send each timestamp's bars, order events and account; wait for the reply.

    The proxy's feeds are the runtime's live feeds; a feed that got a bar since the last step
    is in the frame. Order events are the broker's notifications for orders the agent placed,
    as fill deltas (a partial fill arrives as the size and price of what was added).
    """

    def __init__(self, endpoint: wire.Endpoint, *, reply_timeout_s: float = 60.0) -> None:
        super().__init__(endpoint)
        self.reply_timeout_s = reply_timeout_s
        self._lengths: dict[int, int] = {}
        self._events: list[list[Any]] = []
        self._filled: dict[int, tuple[float, float, float]] = {}  # host ref -> size, value, commission sent

    def order_event(self, order: Any, agent_ref: int) -> None:
        """Queue the broker's notification of one of the agent's orders for the next frame."""
        executed = order.executed
        done_size, done_value, done_comm = self._filled.get(order.ref, (0.0, 0.0, 0.0))
        size = float(executed.size) - done_size
        value = float(executed.size) * float(executed.price or 0.0)
        price = (value - done_value) / size if size else 0.0
        comm = float(executed.comm or 0.0)
        commission = comm - done_comm
        self._filled[order.ref] = (float(executed.size), value, comm)
        self._events.append([agent_ref, int(order.status), size, price, commission,
                             float(order.data.datetime[0]) if len(order.data) else 0.0])

    def reply(self, proxy: AgentProxy) -> list[Any] | None:
        """Send this step's frame and return the agent's reply (None once it has finished)."""
        if self.finished:
            return None
        rows = []
        for index, data in enumerate(proxy.datas):
            length = len(data)
            if length and length != self._lengths.get(index):
                self._lengths[index] = length
                lines = data.lines
                rows.append([index, lines.open[0], lines.high[0], lines.low[0], lines.close[0],
                             lines.volume[0], lines.openinterest[0], _extra(data, "trade_count"),
                             _extra(data, "vwap")])
        broker = proxy.broker
        stamp = float(proxy.datetime[0])
        events, self._events = self._events, []
        self.endpoint.send([wire.BARS, proxy.step_number, stamp, rows, events,
                            [float(broker.getcash()), float(broker.getvalue())]])
        return self._answer(self._next(), proxy)

    def end(self, timeout_s: float = 10.0) -> None:
        """Tell the agent the session is over and take its last word (never waits forever)."""
        if self.finished:
            return
        try:
            self.endpoint.send([wire.END])
            self.reply_timeout_s = timeout_s
            message = self._next()
            if message[0] == wire.STEP:
                message = self._next()
        except (AgentFailed, OSError):
            pass
        self.finished = True

    def _next(self) -> list[Any]:
        """As the base's, but a live agent has `reply_timeout_s` to answer."""
        ready, _, _ = select.select([self.endpoint.read_fd], [], [], self.reply_timeout_s)
        if not ready and not self.endpoint.has_buffered():
            raise AgentFailed(f"the agent did not answer within {self.reply_timeout_s:g}s")
        return super()._next()


def _extra(data: Any, name: str) -> float | None:
    line = getattr(data.lines, name, None)
    return None if line is None else float(line[0])
