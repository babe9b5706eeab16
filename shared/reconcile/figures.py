"""Summary figures of a reconciliation and its chart (equity overlay with divergence markers).

- equity: both sides' portfolio value at every aligned decision;
- tracking error: the standard deviation of the difference of per-decision returns, and the
  largest and final gaps between the two equity curves;
- slippage: for every order both sides filled, how much worse (in basis points, positive = the
  left side paid more on a buy or got less on a sell) the left fill was, per symbol.
"""

from __future__ import annotations

import io
import itertools
import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.reconcile.decisions import Decision
from shared.reconcile.diff import DiffResult

FILLED = frozenset({"Completed", "Partial"})
MARKER_COLOURS = {"data": "tab:red", "state": "tab:orange", "agent": "tab:purple", "carried": "tab:gray",
                  "execution": "tab:green"}


def summary(result: DiffResult, names: tuple[str, str]) -> dict[str, Any]:
    """Decisions compared, identical, diverged by cause, the first divergence, tracking, slippage."""
    first = result.divergences[0].as_dict() if result.divergences else None
    compared = result.compared
    return {
        "left": names[0], "right": names[1], "decisions_compared": compared, "identical": result.identical,
        "identical_pct": round(100.0 * result.identical / compared, 3) if compared else None,
        "diverged": len(result.divergences), "by_cause": result.by_cause(), "first_divergence": first,
        "left_decisions": sum(1 for a, _ in result.pairs if a is not None),
        "right_decisions": sum(1 for _, b in result.pairs if b is not None),
        "tracking": tracking(result.pairs), "slippage_bps": slippage(result.pairs),
    }


def equity(pairs: Sequence[tuple[Decision | None, Decision | None]]) -> list[dict[str, Any]]:
    """Both equity curves at every aligned decision (None where a side made no decision)."""
    return [{"t": anchor.bar_time.isoformat(), "left": a.value if a else None, "right": b.value if b else None}
            for a, b in pairs if (anchor := a or b) is not None]


def tracking(pairs: Sequence[tuple[Decision | None, Decision | None]]) -> dict[str, float | None]:
    """Tracking error of the per-decision returns, and the largest and last equity gaps."""
    both = [(a.value, b.value) for a, b in pairs if a is not None and b is not None]
    gaps = [x - y for x, y in both]
    diffs = [(x1 / x0 - 1.0) - (y1 / y0 - 1.0) for (x0, y0), (x1, y1) in itertools.pairwise(both)
             if x0 and y0]
    return {
        "tracking_error": statistics.pstdev(diffs) if len(diffs) > 1 else (0.0 if diffs else None),
        "max_abs_gap": max((abs(g) for g in gaps), default=None),
        "final_gap": gaps[-1] if gaps else None,
        "final_left": both[-1][0] if both else None, "final_right": both[-1][1] if both else None,
    }


def slippage(pairs: Sequence[tuple[Decision | None, Decision | None]]) -> dict[str, dict[str, float | int]]:
    """Per symbol: count, mean, median, p5, p95, min and max of the left fills' slippage (bps)."""
    by_symbol: dict[str, list[float]] = {}
    for a, b in pairs:
        if a is None or b is None or a.orders != b.orders:
            continue
        for (side, symbol, _), (sa, _, pa), (sb, _, pb) in zip(a.orders, a.fills, b.fills, strict=True):
            if sa in FILLED and sb in FILLED and pa and pb:
                bps = 1e4 * (pa - pb) / pb
                by_symbol.setdefault(symbol, []).append(bps if side == "buy" else -bps)
    return {symbol: _distribution(values) for symbol, values in sorted(by_symbol.items())}


def _distribution(values: list[float]) -> dict[str, float | int]:
    ordered = sorted(values)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {"count": len(ordered), "mean": statistics.fmean(ordered), "median": statistics.median(ordered),
            "p5": pct(0.05), "p95": pct(0.95), "min": ordered[0], "max": ordered[-1]}


def render_chart(title: str, curve: list[dict[str, Any]], divergences: list[dict[str, Any]],
                 names: tuple[str, str]) -> bytes:
    """Both equity curves over the gap between them, a marker per divergence coloured by cause."""
    import matplotlib

    matplotlib.use("Agg")  # no display in a job or a server
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 6), dpi=100)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    for key, name, colour in (("left", names[0], "tab:blue"), ("right", names[1], "tab:orange")):
        points = [(datetime.fromisoformat(p["t"]), p[key]) for p in curve if p[key] is not None]
        top.plot([t for t, _ in points], [v for _, v in points], color=colour, linewidth=1.2, label=name)
    gaps = [(datetime.fromisoformat(p["t"]), p["left"] - p["right"]) for p in curve
            if p["left"] is not None and p["right"] is not None]
    bottom.plot([t for t, _ in gaps], [g for _, g in gaps], color="tab:gray", linewidth=1.0)
    seen: set[str] = set()
    for divergence in divergences[:500]:  # enough to see where they cluster; the report has all
        cause = divergence["cause"]
        label = None if cause in seen else f"divergence: {cause}"
        seen.add(cause)
        top.axvline(datetime.fromisoformat(divergence["bar_time"]), color=MARKER_COLOURS.get(cause, "black"),
                    alpha=0.35, linewidth=0.8, label=label)
    top.set_title(title)
    top.set_ylabel("portfolio value ($)")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_ylabel(f"{names[0]} - {names[1]} ($)")
    bottom.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
