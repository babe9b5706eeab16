"""The untrusted side's market data: feeds that get one timestamp's bars at a time from the host.

`AgentChannel` owns the connection. Whenever backtrader asks the feeds for the next bar, the
first feed to ask makes the channel send the host what the agent did at the previous timestamp
(its `step` reply) and only then read the next `bars` frame. So the process never holds a bar
after the one it is deciding on: look-ahead is impossible by construction, whatever the agent's
code indexes (docs/trust-boundary.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import backtrader as bt

from shared.harness import wire
from shared.market.backtrader_timeframes import backtrader_timeframe

BAR_FIELDS = ("open", "high", "low", "close", "volume", "openinterest", "trade_count", "vwap")


class AgentChannel:
    """The agent's end of the channel: frames in, one `step` reply per frame out."""

    def __init__(self, endpoint: wire.Endpoint, symbols: list[str]) -> None:
        self.endpoint = endpoint
        self.symbols = symbols
        self.generation = 0  # frames received so far
        self.step = -1  # the host's number of the frame being decided on
        self.stamp = 0.0
        self.bars: dict[int, list[float]] = {}
        self.events: list[Any] = []  # order events of the frame (paper trading)
        self.account: list[float] | None = None  # [cash, value] as the host's broker has them
        self.ended = False
        self.on_frame: Callable[[], None] | None = None  # the proxy broker's hook (paper)
        # What the agent did since the last frame, sent as the `step` reply (see `reply`).
        self.stage: str | None = None
        self.orders: list[list[Any]] = []
        self.cancels: list[int] = []
        self.sources: list[list[Any]] = []
        self.reads: list[list[float | None]] | None = None
        self.note: dict[str, Any] | None = None

    def advance(self) -> bool:
        """Reply for the frame decided on, then read the next; False when the host has ended."""
        if self.ended:
            return False
        if self.step >= 0:
            self.reply()
        message = self.endpoint.receive()
        if message is None or message[0] == wire.END:
            self.ended = True
            return False
        if message[0] != wire.BARS:
            raise wire.ProtocolError(f"unexpected {message[0]!r} from the host")
        _, self.step, stamp, rows, self.events, self.account = message
        self.bars = {row[0]: row for row in rows}
        self.stamp = float(stamp)
        self.generation += 1
        if self.on_frame is not None:
            self.on_frame()
        return True

    def reply(self) -> None:
        """Send what the agent did at the current frame, and start the next one empty."""
        self.endpoint.send([wire.STEP, self.step, self.stage, self.orders, self.cancels, self.sources,
                            self.reads, self.note])
        self.stage = self.reads = self.note = None
        self.orders, self.cancels, self.sources = [], [], []

    def finish(self, decisions: int) -> None:
        """Send the last reply (if a frame is still unanswered) and say the run is done."""
        if self.step >= 0 and not self.ended:
            self.reply()
        self.endpoint.send([wire.DONE, decisions])


class ChannelFeed(bt.feed.DataBase):
    """One symbol's bars as the host delivers them; `trade_count` and `vwap` are extra lines."""

    lines: Any = ("trade_count", "vwap")  # backtrader's metaclass turns these names into line objects
    params = (("channel", None), ("index", 0))

    def __init__(self, **_params: Any) -> None:  # the metaclass has already taken the params out
        super().__init__()
        self._seen = 0  # the channel generation this feed last took its bar from

    def next(self, datamaster: Any = None, ticks: bool = True) -> bool | None:
        """A retry with a master clock in the same loop never reads a new frame."""
        if datamaster is not None and len(self) >= self.buflen():
            return False
        return super().next(datamaster=datamaster, ticks=ticks)

    def _load(self) -> bool | None:
        channel: AgentChannel = self.p.channel
        if self._seen == channel.generation and not channel.advance():
            return False
        self._seen = channel.generation
        row = channel.bars.get(self.p.index)
        if row is None:
            return None  # no bar for this symbol at this timestamp
        lines = self.lines
        lines.datetime[0] = channel.stamp
        lines.open[0], lines.high[0], lines.low[0], lines.close[0] = row[1], row[2], row[3], row[4]
        lines.volume[0], lines.openinterest[0] = row[5], row[6]
        lines.trade_count[0] = math.nan if row[7] is None else row[7]
        lines.vwap[0] = math.nan if row[8] is None else row[8]
        return True


def make_feeds(channel: AgentChannel, timeframe: str) -> list[ChannelFeed]:
    """One feed per symbol of the run, named after it (strategies look feeds up by name)."""
    tf, compression = backtrader_timeframe(timeframe)
    return [
        ChannelFeed(channel=channel, index=i, name=symbol, timeframe=tf, compression=compression)
        for i, symbol in enumerate(channel.symbols)
    ]
