"""When the market a paper session trades is open, and when its next bar is due.

A session that shows "trading, 0 decisions" must say why: US stocks trade 09:30-16:00 New York
time on business days (the exchange's fixed holidays excluded, as in the synthetic market);
crypto trades around the clock. A bar is stamped with its opening minute and published when it
closes, so the next one is due one timeframe after the next boundary (or after the open). The
local stack replays the market and skips closed hours, so there the market never waits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.market.synthetic import business_days

NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE = time(9, 30), time(16, 0)
TIMEFRAME_MINUTES = {"1Min": 1, "5Min": 5, "15Min": 15, "1Hour": 60, "1Day": 390}
REPLAY_MESSAGE = "local replay: closed market hours are skipped, so bars keep arriving at any hour"


def market_status(symbols: Sequence[str], timeframe: str, now: datetime, *, replay: bool) -> dict[str, Any]:
    """Whether the session's market is open now, when it opens next and when the next bar is due."""
    step = timedelta(minutes=TIMEFRAME_MINUTES.get(timeframe, 1))
    if replay:
        return {"clock": "replay", "open": True, "closed_hours": "skipped", "next_open": None,
                "next_bar_due": None, "message": REPLAY_MESSAGE}
    now = now.astimezone(UTC)
    if symbols and all("/" in s for s in symbols):  # crypto only: no closing bell
        due = _next_boundary(now, step)
        return {"clock": "exchange", "open": True, "next_open": None, "next_bar_due": _iso(due),
                "message": f"crypto trades around the clock; next bar due {_iso(due)}"}
    if is_open(now):
        due = _next_boundary(now, step)
        return {"clock": "exchange", "open": True, "next_open": None, "next_bar_due": _iso(due),
                "message": f"US stock market open; next bar due {_iso(due)}"}
    opens = next_open(now)
    due = opens + step
    local = opens.astimezone(NEW_YORK)
    return {"clock": "exchange", "open": False, "next_open": _iso(opens), "next_bar_due": _iso(due),
            "message": (f"US stock market closed: it opens {local:%A %H:%M} New York time ({_iso(opens)}); "
                        f"next bar due {_iso(due)}")}


def is_open(now: datetime) -> bool:
    """Whether US stocks trade at `now` (regular hours)."""
    local = now.astimezone(NEW_YORK)
    day = local.date()
    return bool(business_days(day, day + timedelta(days=1))) and OPEN <= local.time() < CLOSE


def next_open(now: datetime) -> datetime:
    """The next regular-hours opening after `now`, in UTC."""
    local = now.astimezone(NEW_YORK)
    for day in business_days(local.date(), local.date() + timedelta(days=10)):
        opening = datetime.combine(day, OPEN, NEW_YORK)
        if opening > local:
            return opening.astimezone(UTC)
    raise ValueError(f"no business day within 10 days of {now}")  # never, with the fixed holidays


def _next_boundary(now: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = (now - epoch) // step
    return epoch + steps * step + step


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
