"""What the untrusted side reports per decision: its stage, the lines it read, its own note.

`DecisionCapture` installs FMEL's `AccessTracker` on the agent's strategy and wraps its decision
methods. Reads go to the host as `[source, ago, size]`, each source (a feed line or an indicator
and the feed lines it is built on) defined once. The host resolves them against its own bars,
so the bar hashes in a record always come from the trusted side; what the agent reports here
can only ever describe its own run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from shared.fmel.quiet import QuietAnalyzer
from shared.fmel.tracker import PLATFORM_CALLS, AccessTracker, FeedLine, Lineage, Read
from shared.harness import wire
from shared.harness.agent_feed import AgentChannel

MAX_NOTE_KEYS = 16
MAX_NOTE_TEXT = 200


class Notebook:
    """`self.fmel.note(signal=0.73, reason="trend")`: the agent's own values for this decision."""

    def __init__(self, channel: AgentChannel) -> None:
        self._channel = channel

    def note(self, **values: float | str | bool | None) -> None:
        """Attach numbers and short strings to the current decision (later keys win)."""
        note = self._channel.note or {}
        for key, value in values.items():
            if len(note) >= MAX_NOTE_KEYS and key not in note:
                break
            if isinstance(value, float) and not math.isfinite(value):
                kept: float | str | bool | None = None
            elif isinstance(value, str):
                kept = value[:MAX_NOTE_TEXT]
            elif not isinstance(value, int | float | bool) and value is not None:
                kept = str(value)[:MAX_NOTE_TEXT]
            else:
                kept = value
            note[str(key)[:64]] = kept
        self._channel.note = note


class DecisionCapture(QuietAnalyzer):
    """Report each decision of the strategy (`prenext`, `nextstart`, `next`) to the channel."""

    params = (("channel", None),)

    def start(self) -> None:
        """Instrument the strategy before its first decision."""
        channel: AgentChannel = self.p.channel
        strategy = self.strategy
        self._channel = channel
        self._tracker = AccessTracker(strategy)
        self._index: dict[int, int] = {}
        self._source_ids: dict[int, int] = {}
        self._inside = False
        self.decisions = 0
        strategy.fmel = Notebook(channel)
        for stage in ("prenext", "nextstart", "next"):
            setattr(strategy, stage, self._decision(stage, getattr(strategy, stage)))
        for name in PLATFORM_CALLS:
            setattr(strategy, name, self._tracker.untracked(getattr(strategy, name)))
        channel.endpoint.send([wire.READY])  # the strategy is built: the host may start the run

    def stop(self) -> None:
        """Restore the strategy's classes and methods."""
        self._tracker.uninstall()
        for name in ("prenext", "nextstart", "next", *PLATFORM_CALLS):
            self.strategy.__dict__.pop(name, None)

    def _install(self) -> None:
        # At the first decision, not at start: indicators the agent makes in `start()` exist by then.
        self._tracker.install()
        self._index = {id(info): i for i, info in enumerate(self._tracker.feeds)}

    def _decision(self, stage: str, method: Callable[[], Any]) -> Callable[[], Any]:
        cell = self._tracker.cell
        channel = self._channel

        def decide(*args: Any, **kwargs: Any) -> Any:
            if self._inside:  # nextstart calls next by default: one decision, not two
                return method(*args, **kwargs)
            if not self.decisions:
                self._install()
            self._inside = True
            reads: list[Read] = []
            cell[0] = reads
            try:
                return method(*args, **kwargs)
            finally:
                cell[0] = None
                self._inside = False
                self.decisions += 1
                channel.stage = stage
                channel.reads = [[self._source_id(s), ago, size, _plain(value)] for s, ago, size, value in reads]

        return decide

    def _source_id(self, source: FeedLine | Lineage) -> int:
        found = self._source_ids.get(id(source))
        if found is not None:
            return found
        number = self._source_ids[id(source)] = len(self._source_ids)
        if isinstance(source, Lineage):
            roots = [[self._index[id(root.feed)], root.field] for root in source.roots]
            self._channel.sources.append([number, source.name, roots, source.window, source.params, source.line])
        else:
            self._channel.sources.append([number, None, [[self._index[id(source.feed)], source.field]], 1, "", ""])
        return number


def _plain(value: object) -> float | None:
    """A read's value as the wire carries it: a float, or None (NaN, or a multi-value read)."""
    return value if type(value) is float and math.isfinite(value) else None
