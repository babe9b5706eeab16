"""Encode a backtest's bars as the frames the host delivers, one timestamp per frame.

All symbols with a bar at a timestamp travel in one frame: `["bars", step, stamp, rows, None,
None]` with a row `[symbol index, open, high, low, close, volume, openinterest, trade_count,
vwap]` and `stamp` backtrader's float date of the bar (the host's own feeds use the same). The
frames are encoded once, before the agent runs, so delivering one costs the host a write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from shared.harness import wire

ROW_COLUMNS = ("open", "high", "low", "close", "volume", "openinterest", "trade_count", "vwap")


def hello(symbols: list[str], *, timeframe: str, cash: float, commission: float, mode: str) -> list[Any]:
    """The first message of a run: what the agent's cerebro is built with."""
    return [wire.HELLO, {"symbols": symbols, "timeframe": timeframe, "cash": cash, "commission": commission,
                         "mode": mode}]


def bar_frames(frames: Mapping[str, pd.DataFrame]) -> Iterator[list[Any]]:
    """Yield the `bars` messages of `frames` (symbol -> bars), in time order."""
    stamps = [frame.index.values.astype("datetime64[ns]") for frame in frames.values()]
    union = np.unique(np.concatenate(stamps)) if stamps else np.array([], dtype="datetime64[ns]")
    steps: list[list[list[Any]]] = [[] for _ in range(len(union))]
    for index, (frame, times) in enumerate(zip(frames.values(), stamps, strict=True)):
        positions = np.searchsorted(union, times).tolist()
        columns = [_column(frame, name) for name in ROW_COLUMNS]
        for position, *values in zip(positions, *columns, strict=True):
            steps[position].append([index, *values])
    for step, (moment, rows) in enumerate(zip(pd.DatetimeIndex(union).to_pydatetime(), steps, strict=True)):
        yield [wire.BARS, step, bt.date2num(moment), rows, None, None]


def encode_run(hello_message: list[Any], frames: Mapping[str, pd.DataFrame]) -> tuple[bytes, int]:
    """Return hello + every frame + end as one byte string, and the number of frames."""
    parts = [wire.pack(hello_message)]
    parts += [wire.pack(message) for message in bar_frames(frames)]
    parts.append(wire.pack([wire.END]))
    return b"".join(parts), len(parts) - 2


def _column(frame: pd.DataFrame, name: str) -> list[float]:
    if name not in frame.columns:
        return [0.0] * len(frame) if name == "openinterest" else [float("nan")] * len(frame)
    return frame[name].astype("float64").tolist()
