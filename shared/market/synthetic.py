"""A deterministic synthetic market, clearly labelled `source="synthetic"`.

Prices follow geometric Brownian motion driven by a common market factor (so symbols correlate)
plus an idiosyncratic part, with GARCH-style volatility clustering shared by the whole market.
Every random stream is seeded from its inputs, so the same call yields the same bars, byte for
byte. Daily bars fall on NYSE-like business days (weekdays without the fixed holidays); minute
bars cover 09:30-16:00 New York time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shared.errors import InvalidInputError
from shared.market.bars import Bar, bar_to_row
from shared.ports.warehouse import Warehouse

SOURCE = "synthetic"
NEW_YORK = ZoneInfo("America/New_York")
_STEPS_PER_YEAR = {"1Day": 252, "1Min": 252 * 390}


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _holidays(year: int) -> set[date]:
    # Fixed-date NYSE holidays, moved to the nearest weekday as the exchange observes them.
    days = set()
    for month, day in ((1, 1), (6, 19), (7, 4), (12, 25)):
        d = date(year, month, day)
        if d.weekday() == 5:
            d -= timedelta(days=1)
        elif d.weekday() == 6:
            d += timedelta(days=1)
        days.add(d)
    return days


def business_days(start: date, end: date) -> list[date]:
    """Return the NYSE-like trading days in `[start, end)`."""
    days, holidays, d = [], {}, start
    while d < end:
        if d.weekday() < 5:
            if d.year not in holidays:
                holidays[d.year] = _holidays(d.year)
            if d not in holidays[d.year]:
                days.append(d)
        d += timedelta(days=1)
    return days


def bar_times(start: datetime, end: datetime, timeframe: str) -> list[datetime]:
    """Return the UTC bar open times of `timeframe` in `[start, end)`."""
    start, end = _utc(start), _utc(end)
    if timeframe == "1Day":
        days = business_days(start.date(), (end - timedelta(microseconds=1)).date() + timedelta(days=1))
        stamps = [datetime.combine(d, time(), UTC) for d in days]
    elif timeframe == "1Min":
        stamps = []
        for d in business_days(start.astimezone(NEW_YORK).date(), end.astimezone(NEW_YORK).date() + timedelta(days=1)):
            open_utc = datetime.combine(d, time(9, 30), NEW_YORK).astimezone(UTC)
            stamps.extend(open_utc + timedelta(minutes=m) for m in range(390))
    else:
        raise InvalidInputError(f"synthetic bars support timeframes {tuple(_STEPS_PER_YEAR)}, got {timeframe!r}")
    return [s for s in stamps if start <= s < end]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _market_factor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return standard-normal market shocks and their GARCH(1,1) volatility multiplier."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal(n)
    omega, alpha, beta = 0.05, 0.10, 0.85  # long-run variance 1: omega / (1 - alpha - beta)
    var = np.empty(n)
    v = 1.0
    for i in range(n):
        var[i] = v
        v = omega + alpha * v * shocks[i] ** 2 + beta * v
    return shocks, np.sqrt(var)


def generate_bars(
    symbols: Sequence[str], start: datetime, end: datetime, timeframe: str = "1Day", *, seed: int = 0
) -> dict[str, list[Bar]]:
    """Return deterministic synthetic bars per symbol for `[start, end)`."""
    if not symbols:
        raise InvalidInputError("symbols must not be empty")
    stamps = bar_times(start, end, timeframe)
    n = len(stamps)
    if n == 0:
        return {s: [] for s in symbols}
    dt = 1.0 / _STEPS_PER_YEAR[timeframe]
    window = (_utc(start).isoformat(), _utc(end).isoformat())
    market, vol = _market_factor(n, _seed("market", timeframe, *window, seed))
    return {
        symbol: _symbol_bars(symbol, timeframe, stamps, market, vol, dt, _seed(symbol, timeframe, *window, seed))
        for symbol in symbols
    }


def _symbol_bars(
    symbol: str,
    timeframe: str,
    stamps: list[datetime],
    market: np.ndarray,
    vol: np.ndarray,
    dt: float,
    seed: int,
) -> list[Bar]:
    rng = np.random.default_rng(seed)
    n = len(stamps)
    start_price = float(rng.uniform(20.0, 500.0))
    drift = float(rng.uniform(-0.05, 0.20))
    beta = float(rng.uniform(0.6, 1.4))
    market_sigma, idio_sigma = 0.16, float(rng.uniform(0.10, 0.35))
    idio = rng.standard_normal(n)
    sq = np.sqrt(dt)
    sigma = np.sqrt((beta * market_sigma) ** 2 + idio_sigma**2)
    log_ret = (drift - 0.5 * sigma**2) * dt + vol * sq * (beta * market_sigma * market + idio_sigma * idio)
    close = start_price * np.exp(np.cumsum(log_ret))
    prev = np.concatenate(([start_price], close[:-1]))
    open_ = prev * np.exp(rng.normal(0.0, 0.2 * sigma * sq, n))
    span = np.abs(rng.normal(0.0, 0.5 * sigma * sq, (2, n))) * vol
    o, c = np.round(open_, 4), np.round(close, 4)
    high = np.round(np.maximum(o, c) * np.exp(span[0]), 4)
    low = np.round(np.minimum(o, c) * np.exp(-span[1]), 4)
    base_volume = float(rng.uniform(2e6, 4e7)) * (dt * 252)
    volume = np.round(base_volume * rng.lognormal(0.0, 0.3, n) * (1.0 + np.abs(log_ret) / (sigma * sq)))
    trades = np.maximum(1, (volume / rng.uniform(80.0, 200.0)).astype(np.int64))
    vwap = np.round((o + high + low + c) / 4.0, 4)
    # tolist() converts each column at C speed to the same Python floats/ints as float()/int() per item.
    columns = zip(stamps, o.tolist(), high.tolist(), low.tolist(), c.tolist(), volume.tolist(), trades.tolist(),
                  vwap.tolist(), strict=True)
    return [Bar(symbol, timeframe, t, op, hi, lo, cl, vo, tr, vw, SOURCE) for t, op, hi, lo, cl, vo, tr, vw in columns]


def iter_synthetic_rows(
    symbols: Sequence[str], start: datetime, end: datetime, timeframe: str = "1Day", *, seed: int = 0
) -> Iterator[dict]:
    """Yield `market_data.bars` rows of the synthetic market, symbol by symbol."""
    for bars in generate_bars(symbols, start, end, timeframe, seed=seed).values():
        for bar in bars:
            yield bar_to_row(bar)


def write_synthetic_market(
    warehouse: Warehouse,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    timeframe: str = "1Day",
    *,
    seed: int = 0,
    batch_size: int = 10_000,
) -> int:
    """Write the synthetic market for `symbols` over `[start, end)` to `market_data.bars`; return rows."""
    ingested_at = datetime.now(UTC)
    written, batch = 0, []
    for row in iter_synthetic_rows(symbols, start, end, timeframe, seed=seed):
        row["ingested_at"] = ingested_at
        batch.append(row)
        if len(batch) >= batch_size:
            warehouse.insert_rows("market_data.bars", batch)
            written, batch = written + len(batch), []
    if batch:
        warehouse.insert_rows("market_data.bars", batch)
        written += len(batch)
    return written
