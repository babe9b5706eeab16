"""FMEL rows as comparable decisions: what was read, what was decided, how it filled, the portfolio.

A row (SPEC §10) is the host's record of one decision; `Decision` keeps only what two runs of the
same agent should agree on, in a hashable, order-independent form, so comparing two decisions is
comparing tuples. Floats are rounded to 1e-9 relative (a value that crossed a warehouse keeps its
bits; the rounding only absorbs a sum taken in another order).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.clock import parse_iso

Row = Mapping[str, Any]
Read = tuple[str, str, str, int, float | None]  # symbol, data_hash, field, index, value
Order = tuple[str, str, str]  # side, symbol, order type
Fill = tuple[str, float, float | None]  # status, size (executed once it fills), price (likewise)
Holding = tuple[str, float, float]  # symbol, size, average price


def rounded(value: Any) -> float | None:
    """A float to 12 significant digits (None for a missing or non-finite value)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return float(f"{number:.12g}")


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision of a run, reduced to what a faithful replay must reproduce."""

    point: int
    bar_time: datetime
    stage: str
    bars: frozenset[tuple[str, str]]  # (symbol, data_hash) of every bar read
    reads: tuple[Read, ...]
    indicators: tuple[tuple[str, str, str, int, float | None], ...]  # name, params, input, index, value
    note: str | None
    orders: tuple[Order, ...]
    fills: tuple[Fill, ...]
    cash: float
    value: float
    positions: tuple[Holding, ...]

    @property
    def portfolio(self) -> tuple[float | None, float | None, tuple[Holding, ...]]:
        """Cash, value and positions, as compared."""
        return rounded(self.cash), rounded(self.value), self.positions


def decision_from_row(row: Row) -> Decision:
    """Reduce one `fmel.decisions` row (as the warehouse returns it) to a `Decision`."""
    bars: set[tuple[str, str]] = set()
    reads: list[Read] = []
    for access in row.get("data_accessed") or ():
        symbol, data_hash = str(access.get("symbol")), str(access.get("data_hash"))
        bars.add((symbol, data_hash))
        for read in access.get("reads") or ():
            reads.append((symbol, data_hash, str(read.get("field")), int(read.get("index") or 0),
                          rounded(read.get("value"))))
    indicators = tuple(sorted(
        (str(i.get("name")), str(i.get("params")), str(i.get("input")), int(i.get("index") or 0),
         rounded(i.get("value")))
        for i in row.get("indicators") or ()
    ))
    actions = sorted(row.get("actions") or (), key=lambda a: int(a.get("seq") or 0))
    orders = tuple(_order(a) for a in actions)
    fills = tuple((str(a.get("status")), rounded(a.get("size")) or 0.0, rounded(a.get("price"))) for a in actions)
    positions = tuple(sorted(
        (str(p.get("symbol")), rounded(p.get("size")) or 0.0, rounded(p.get("price")) or 0.0)
        for p in row.get("positions") or () if p.get("size")
    ))
    return Decision(
        point=int(row["decision_point"]), bar_time=_time(row["bar_time"]), stage=str(row.get("stage")),
        bars=frozenset(bars), reads=tuple(sorted(reads, key=_read_key)), indicators=indicators,
        note=row.get("note"), orders=orders, fills=fills, cash=float(row.get("cash") or 0.0),
        value=float(row.get("portfolio_value") or 0.0), positions=positions,
    )


def decisions_from_rows(rows: Iterable[Row]) -> list[Decision]:
    """Every row as a `Decision`, in decision-point order."""
    return sorted((decision_from_row(r) for r in rows), key=lambda d: d.point)


def _order(action: Mapping[str, Any]) -> Order:
    # An action's size and price become the executed ones once it fills (FMEL keeps one pair),
    # so they are compared with the fills (shared.reconcile.diff tells a size the agent chose
    # from a partial fill by the status).
    return str(action.get("side")), str(action.get("symbol")), str(action.get("order_type"))


def _read_key(read: Read) -> tuple[Any, ...]:
    return read[0], read[2], read[3], read[1]


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_iso(str(value))
