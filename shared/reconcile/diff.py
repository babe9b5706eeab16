"""Decision-by-decision diff of two FMEL streams of one agent, each divergence with its cause.

The streams are aligned on the bar each decision was made at (`bar_time`, then the order of
decisions at the same bar time). For each pair the checks run in the order the causes can arise:

1. **data**: the bars read differ (by `data_hash`), or one side has no decision at that bar:
   `missing` (the other side never got that bar, or read an older one in its place), `late`
   (it arrived in a decision of its own after its time), `different` (a bar the archive lacks).
2. **state**: same bars, but the portfolio (cash, value, positions) differed when deciding.
3. **agent**: same bars and portfolio, a different decision (orders, stage, indicator values,
   note): nondeterminism when nothing diverged before in the run segment, `carried` otherwise
   (the agent's own memory follows from the earlier divergence).
4. **execution**: the same orders filled differently: `fill_price` (slippage), `partial`, or
   `rejection` (a status such as Margin or Rejected on one side).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.reconcile.decisions import Decision, rounded

CAUSES = ("data", "state", "agent", "carried", "execution")
BarIndex = Mapping[str, tuple[str, datetime]]  # data_hash -> (symbol, bar time) in the archive


@dataclass(frozen=True)
class Divergence:
    """One decision where the two streams differ."""

    bar_time: datetime
    cause: str
    kind: str
    detail: str
    left_point: int | None
    right_point: int | None
    segment: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"bar_time": self.bar_time.isoformat(), "cause": self.cause, "kind": self.kind,
                "detail": self.detail, "left_point": self.left_point, "right_point": self.right_point,
                "segment": self.segment}


@dataclass
class DiffResult:
    """Aligned pairs, the divergences found, and the counts."""

    pairs: list[tuple[Decision | None, Decision | None]]
    divergences: list[Divergence] = field(default_factory=list)

    @property
    def compared(self) -> int:
        """Decisions compared (a decision only one side made counts once)."""
        return len(self.pairs)

    @property
    def identical(self) -> int:
        """Decisions the two sides made alike."""
        return self.compared - len(self.divergences)

    def by_cause(self) -> dict[str, int]:
        """How many divergences each cause explains (every cause listed)."""
        counts = Counter(d.cause for d in self.divergences)
        return {cause: counts.get(cause, 0) for cause in CAUSES}


def align(left: Sequence[Decision], right: Sequence[Decision]) -> list[tuple[Decision | None, Decision | None]]:
    """Pair decisions made at the same bar time (the n-th with the n-th when there are several)."""
    def keyed(stream: Sequence[Decision]) -> dict[tuple[datetime, int], Decision]:
        seen: Counter[datetime] = Counter()
        out = {}
        for decision in stream:
            out[(decision.bar_time, seen[decision.bar_time])] = decision
            seen[decision.bar_time] += 1
        return out

    lk, rk = keyed(left), keyed(right)
    return [(lk.get(key), rk.get(key)) for key in sorted(lk.keys() | rk.keys())]


def diff(left: Sequence[Decision], right: Sequence[Decision], *, archive: BarIndex | None = None,
         segment_starts: Sequence[datetime] = (), names: tuple[str, str] = ("paper", "replay")) -> DiffResult:
    """Compare `left` with `right` decision by decision; `archive` explains data divergences."""
    result = DiffResult(align(left, right))
    archive = archive or {}
    starts = sorted(segment_starts)
    left_times = Counter(d.bar_time for d in left)
    diverged_in: set[int] = set()
    found: list[tuple[str, str, str] | None] = []
    for a, b in result.pairs:
        anchor = a or b
        assert anchor is not None
        segment = _segment(starts, anchor.bar_time)
        found.append(_compare(a, b, archive, left_times, segment in diverged_in, names))
        if found[-1] is not None:
            diverged_in.add(segment)
    for i, ((a, b), outcome) in enumerate(zip(result.pairs, found, strict=True)):
        if outcome is None:
            continue
        following = found[i + 1] if i + 1 < len(found) else None
        cause = outcome
        if outcome[0] == "execution" and following is not None and following[0] == "data":
            # Orders fill on the next bar: when that bar already differs, so do the fills.
            cause = ("data", following[1], f"{outcome[2]}, because the next bar differs: {following[2]}")
        anchor = a or b
        assert anchor is not None
        result.divergences.append(Divergence(anchor.bar_time, *cause, a.point if a else None,
                                             b.point if b else None, _segment(starts, anchor.bar_time)))
    return result


def _segment(starts: Sequence[datetime], at: datetime) -> int:
    return max(0, bisect.bisect_right(starts, at) - 1) if starts else 0


def _compare(a: Decision | None, b: Decision | None, archive: BarIndex, left_times: Counter[datetime],
             earlier: bool, names: tuple[str, str]) -> tuple[str, str, str] | None:
    left, right = names
    if a is None:
        assert b is not None
        bars = ", ".join(_bar(s, h, archive) for s, h in sorted(b.bars)) or _at(b.bar_time)
        return "data", "missing", f"the {left} run made no decision at {_at(b.bar_time)}: it never got {bars}"
    if b is None:
        if left_times[a.bar_time] > 1:
            return "data", "late", (f"the {left} run decided twice at {_at(a.bar_time)}: a bar of that time "
                                    "arrived after the others, in a decision of its own")
        return "data", "different", f"the {left} run decided at {_at(a.bar_time)} on bars the {right} run never had"
    if a.bars != b.bars:
        return ("data", *_bars_differ(a, b, archive, names))
    if a.portfolio != b.portfolio:
        return "state", "portfolio", (f"same bars, but the portfolio differed before deciding: {left} "
                                      f"{_portfolio(a)}; {right} {_portfolio(b)}")
    if a.orders != b.orders or a.stage != b.stage or _sized(a) != _sized(b):
        kind = "carried" if earlier else "agent"
        different = f"{left} {_orders(a)}; {right} {_orders(b)}"
        return kind, "decision", f"same bars and portfolio, different decision: {different}"
    if a.reads != b.reads or a.indicators != b.indicators or a.note != b.note:
        kind = "carried" if earlier else "agent"
        return kind, "values", (f"same bars and orders, but the agent computed different values "
                                f"(indicators or note): {left} {_values(a)}; {right} {_values(b)}")
    if a.fills != b.fills:
        return ("execution", *_fills_differ(a, b, names))
    return None


def _bars_differ(a: Decision, b: Decision, archive: BarIndex, names: tuple[str, str]) -> tuple[str, str]:
    left, right = names
    mine = dict(sorted(a.bars - b.bars))
    theirs = dict(sorted(b.bars - a.bars))
    for symbol, data_hash in mine.items():
        known = archive.get(data_hash)
        expected = theirs.get(symbol)
        if known is None and archive:
            return "different", (f"the {left} run read a {symbol} bar ({data_hash[:12]}) the archive does not "
                                 f"hold; the {right} run read {_bar(symbol, expected, archive)}")
        if expected is not None and known is not None and expected in archive and known[1] < archive[expected][1]:
            return "missing", (f"the {left} run read {_bar(symbol, data_hash, archive)} where the {right} run "
                               f"read {_bar(symbol, expected, archive)}: that bar never reached the {left} run "
                               "in time")
    extra = ", ".join(_bar(s, h, archive) for s, h in theirs.items()) or "none"
    lacking = ", ".join(_bar(s, h, archive) for s, h in mine.items()) or "none"
    return "different", f"the bars read differ: only {left}: {lacking}; only {right}: {extra}"


def _fills_differ(a: Decision, b: Decision, names: tuple[str, str]) -> tuple[str, str]:
    left, right = names
    for (side, symbol, _), (sa, za, pa), (sb, zb, pb) in zip(a.orders, a.fills, b.fills, strict=True):
        what = f"{side} {symbol}"
        if sa != sb:
            kind = "partial" if "Partial" in (sa, sb) else "rejection"
            return kind, f"{what}: {left} {sa} ({_num(za)} @ {_num(pa)}), {right} {sb} ({_num(zb)} @ {_num(pb)})"
        if za != zb:
            return "partial", f"{what}: {left} filled {_num(za)}, {right} {_num(zb)}"
        if pa != pb and pa is not None and pb is not None:
            bps = 1e4 * (pa - pb) / pb if pb else 0.0
            return "fill_price", f"{what} {_num(za)}: {left} filled @ {_num(pa)}, {right} @ {_num(pb)} ({bps:+.1f} bps)"
    return "fill", f"the fills differ: {left} {a.fills}; {right} {b.fills}"


def _sized(decision: Decision) -> tuple[float, ...]:
    # A completed order's size is what the agent asked for (filled whole): a difference there is
    # the agent's; a partial or refused order's size is the broker's business (execution).
    return tuple(size for status, size, _ in decision.fills if status == "Completed")


def _bar(symbol: str, data_hash: str | None, archive: BarIndex) -> str:
    if data_hash is None:
        return f"no {symbol} bar"
    known = archive.get(data_hash)
    return f"{symbol} {_at(known[1])}" if known else f"{symbol} bar {data_hash[:12]}"


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4f}".rstrip("0").rstrip(".")


def _portfolio(d: Decision) -> str:
    held = ", ".join(f"{s} {_num(z)} @ {_num(p)}" for s, z, p in d.positions) or "no positions"
    return f"cash {_num(rounded(d.cash))}, value {_num(rounded(d.value))}, {held}"


def _orders(d: Decision) -> str:
    if not d.orders:
        return f"no order ({d.stage})"
    return "; ".join(f"{side} {symbol} {kind} {_num(size)} {status}"
                     for (side, symbol, kind), (status, size, _) in zip(d.orders, d.fills, strict=True))


def _values(d: Decision) -> str:
    shown = [f"{name}={_num(value)}" for name, _, _, _, value in d.indicators[:3]]
    return ", ".join(shown + ([f"note {d.note}"] if d.note else [])) or "none"
