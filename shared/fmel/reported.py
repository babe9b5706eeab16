"""Turn the reads an agent reports over the harness channel into FMEL raw reads, on host feeds.

The agent names a source (a feed line, or an indicator and the feed lines it is built on) and
`ago`/`size`; the host builds the same `FeedLine`/`Lineage` over its own `FeedInfo`s, so data
hashes come from the trusted bars. Reports that cannot be true are dropped and counted: unknown
feeds or sources, and any index after the current bar (the agent never had such a bar).
"""

from __future__ import annotations

import json
import math
from typing import Any

import backtrader as bt

from shared.fmel.sources import FeedInfo, FeedLine, Lineage, Read

MAX_SOURCES = 4096
MAX_ROOTS = 64
MAX_READS = 4096  # per decision
MAX_WINDOW = 1_000_000
MAX_NAME = 64
MAX_PARAMS = 256  # what describe_indicator sends: at most six "name=value" pairs
MAX_NOTE_KEYS = 16
MAX_NOTE_TEXT = 200
FIELDS = frozenset({"open", "high", "low", "close", "volume", "openinterest", "trade_count", "vwap"})


class ReportedReads:
    """The sources one agent has defined so far and the conversion of its reads."""

    def __init__(self, datas: list[bt.AbstractDataBase]) -> None:
        self.feeds = [FeedInfo(data, data._name or f"data{i}") for i, data in enumerate(datas)]
        self.sources: dict[int, FeedLine | Lineage] = {}
        self.dropped = 0
        self._lines: dict[tuple[int, str], FeedLine] = {}

    def define(self, definitions: Any) -> None:
        """Register `[id, name | None, [[feed, field], ...], window, params, line]` entries; drop bad ones."""
        if not isinstance(definitions, list):
            return
        for entry in definitions:
            source = self._source(entry)
            if source is None:
                self.dropped += 1
            else:
                self.sources[entry[0]] = source

    def resolve(self, reads: Any) -> list[Read]:
        """Return `(source, ago, size, value)` reads for the reported `[id, ago, size, value]` entries.

        The value stands only for an indicator (the agent computed it); a price or volume is
        always taken from the host's own bar when the row is built.
        """
        if not isinstance(reads, list):
            return []
        out: list[Read] = []
        sources = self.sources
        for entry in reads[:MAX_READS]:
            try:
                number, ago, size, value = entry
                source = sources[number]
            except (TypeError, ValueError, KeyError):
                self.dropped += 1
                continue
            if type(ago) is not int or type(size) is not int or ago > 0 or not 0 < size <= MAX_WINDOW:
                self.dropped += 1  # a bar after the current one, or no bar at all
                continue
            if type(value) is not float or not math.isfinite(value):
                value = None
            out.append((source, ago, size, value))
        self.dropped += max(0, len(reads) - MAX_READS)
        return out

    def _source(self, entry: Any) -> FeedLine | Lineage | None:
        try:
            number, name, roots, window, params, line = entry
        except (TypeError, ValueError):
            return None
        if type(number) is not int or len(self.sources) >= MAX_SOURCES and number not in self.sources:
            return None
        if not isinstance(roots, list) or len(roots) > MAX_ROOTS:
            return None
        found = [self._line(root) for root in roots]
        lines = [line for line in found if line is not None]
        if len(lines) != len(found):
            return None
        if name is None:  # a feed line: exactly one root
            return lines[0] if len(lines) == 1 else None
        if not isinstance(name, str) or type(window) is not int or not 0 < window <= MAX_WINDOW:
            return None
        label = _clean(name, "_.()") or "Indicator"
        # An indicator may have no feed line at its roots (an operation on constants and lines of
        # other indicators): it is still recorded by name and value, with no bars behind it.
        return Lineage(label, tuple(lines), window, _clean(params, "_.=,-", MAX_PARAMS), _clean(line, "_"))

    def _line(self, root: Any) -> FeedLine | None:
        try:
            index, field = root
        except (TypeError, ValueError):
            return None
        if type(index) is not int or not 0 <= index < len(self.feeds) or field not in FIELDS:
            return None
        line = self._lines.get((index, field))
        if line is None:
            line = self._lines[(index, field)] = FeedLine(self.feeds[index], field)
        return line


def note_text(note: Any) -> str | None:
    """The agent's note (`self.fmel.note(...)`) as stored: JSON of at most 16 short plain values."""
    if not isinstance(note, dict) or not note:
        return None
    kept: dict[str, Any] = {}
    for key, value in list(note.items())[:MAX_NOTE_KEYS]:
        if isinstance(value, float) and not math.isfinite(value):
            kept_value: str | float | None = None
        elif isinstance(value, str):
            kept_value = value[:MAX_NOTE_TEXT]
        elif value is None or isinstance(value, bool | int | float):
            kept_value = value
        else:
            continue
        kept[str(key)[:MAX_NAME]] = kept_value
    return json.dumps(kept, separators=(",", ":"), allow_nan=False) if kept else None


def _clean(text: Any, allowed: str, limit: int = MAX_NAME) -> str:
    """Keep an agent-given label short and plain (letters, digits and a few marks)."""
    if not isinstance(text, str):
        return ""
    return "".join(c for c in text[:limit] if c.isalnum() or c in allowed)
