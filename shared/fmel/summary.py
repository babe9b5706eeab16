"""Turn a decision's raw reads into its record: the bars read (`data_accessed`), the indicators read."""

from __future__ import annotations

import math
from typing import Any

from shared.fmel.sources import FeedInfo, Lineage, Read


def indicator_reads(reads: list[Read]) -> list[dict[str, Any]]:
    """The indicator values a decision read, each once: what, on what input, which bar, the value."""
    seen: set[tuple[int, int]] = set()
    out: list[dict[str, Any]] = []
    for source, ago, size, value in reads:
        if type(source) is not Lineage or size != 1 or (id(source), ago) in seen:
            continue
        seen.add((id(source), ago))
        inputs = ", ".join(f"{root.feed.symbol} {root.field}" for root in source.roots)
        out.append({"name": source.name, "params": source.params, "line": source.line, "input": inputs,
                    "index": ago, "value": _number(value)})
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summarise(reads: list[Read], *, expand: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Turn raw reads into `data_accessed` entries (one per bar read) and the count of reads.

    Each (symbol, field, index) is kept once, numbered by first access. An indicator read is
    recorded, by default, as one read per input line named `"<Indicator>:<field>[<lo>..0]"` on
    the bar the indicator value belongs to: the value depended on that field over the bars
    `lo..0` relative to that bar (its warm-up window). With `expand=True` it is instead spelled
    out as one plain read per bar of the window, which is exact but far bigger.
    """
    if not reads:
        return [], 0
    if len(reads) == 1:  # the common decision: one value of one source, without the general loop
        source, ago, size, value = reads[0]
        target = source.single
        if size == 1 and target is not None and not (expand and type(source) is Lineage):
            return _summarise_one(target, ago, value if type(source) is Lineage else None)
    groups: dict[tuple[FeedInfo, int], tuple[list[str], list[dict[str, Any]]]] = {}
    seen: set[tuple[FeedInfo, str, int]] = set()
    accessed: list[dict[str, Any]] = []
    seq = 0
    for source, ago, size, reported in reads:
        lineage = type(source) is Lineage
        if expand and lineage:
            first, targets = ago - size + 1 - (source.window - 1), source.expanded
        else:
            first, targets = ago - size + 1, source.targets
        for feed, field in targets:
            lowest = 1 - feed.dt_line.lencount  # no bar before the first
            for index in range(max(lowest, first), ago + 1):
                key = (feed, field, index)
                if key in seen:
                    continue
                seen.add(key)
                group = groups.get((feed, index))
                if group is None:
                    data_hash = feed.hash_at(index)
                    if data_hash is None:
                        continue
                    group = groups[(feed, index)] = ([field], [])
                    accessed.append({"symbol": feed.symbol, "data_hash": data_hash, "fields": group[0],
                                     "reads": group[1]})
                elif field not in group[0]:
                    group[0].append(field)
                seq += 1
                # A price or volume: the bar's own value. An indicator: the value the read returned.
                value = (reported if index == ago else None) if lineage and not expand else feed.value_at(field, index)
                group[1].append({"seq": seq, "field": field, "index": index, "value": _number(value)})
    return accessed, seq


def _summarise_one(
    target: tuple[FeedInfo, str], ago: int, reported: float | None
) -> tuple[list[dict[str, Any]], int]:
    """Summarise a decision whose only read was the value `ago` bars back of one target."""
    feed, field = target
    data_hash = feed.hash_at(ago) if ago >= 1 - feed.dt_line.lencount else None
    if data_hash is None:
        return [], 0
    value = reported if reported is not None else feed.value_at(field, ago)
    reads = [{"seq": 1, "field": field, "index": ago, "value": _number(value)}]
    return [{"symbol": feed.symbol, "data_hash": data_hash, "fields": [field], "reads": reads}], 1
