"""Typed events parsed from Alpaca stream messages (one dataclass per message type)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.venues.alpaca.protocol import MalformedFrameError


@dataclass(frozen=True, slots=True)
class BarEvent:
    """A minute bar (`b`), an updated minute bar (`u`) or a daily bar (`d`)."""

    kind: str
    symbol: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int | None = None
    vwap: float | None = None


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade (`t`)."""

    symbol: str
    timestamp: datetime
    price: float
    size: float
    trade_id: int | None = None
    exchange: str | None = None
    tape: str | None = None
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuoteEvent:
    """One quote (`q`)."""

    symbol: str
    timestamp: datetime
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float
    bid_exchange: str | None = None
    ask_exchange: str | None = None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A trading status change (`s`): halts, resumptions."""

    symbol: str
    timestamp: datetime
    status_code: str
    status_message: str = ""


@dataclass(frozen=True, slots=True)
class NewsEvent:
    """One news article (`n`)."""

    id: str
    headline: str
    created_at: datetime
    updated_at: datetime | None = None
    summary: str = ""
    author: str = ""
    source: str = ""
    url: str = ""
    symbols: tuple[str, ...] = ()
    content: str = ""


@dataclass(frozen=True, slots=True)
class SuccessEvent:
    """Control: `connected` or `authenticated`."""

    msg: str


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    """Control: the full current subscription, channel -> symbols."""

    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """Control: an error with Alpaca's numeric code (402 auth failed, 405, 406, ...)."""

    code: int
    msg: str


Event = (
    BarEvent | TradeEvent | QuoteEvent | StatusEvent | NewsEvent | SuccessEvent | SubscriptionEvent | ErrorEvent
)


def _time(message: Mapping[str, Any], key: str) -> datetime:
    value = message.get(key)
    if not isinstance(value, datetime):
        raise MalformedFrameError(f"{message.get('T')!r} message: {key!r} must be a timestamp, got {value!r}")
    return value


def _bar(m: Mapping[str, Any]) -> BarEvent:
    n, vw = m.get("n"), m.get("vw")
    return BarEvent(
        m["T"], m["S"], _time(m, "t"), float(m["o"]), float(m["h"]), float(m["l"]), float(m["c"]),
        float(m["v"]), None if n is None else int(n), None if vw is None else float(vw),
    )


def _trade(m: Mapping[str, Any]) -> TradeEvent:
    tid = m.get("i")
    return TradeEvent(
        m["S"], _time(m, "t"), float(m["p"]), float(m["s"]), None if tid is None else int(tid),
        m.get("x"), m.get("z"), tuple(m.get("c") or ()),
    )


def _quote(m: Mapping[str, Any]) -> QuoteEvent:
    return QuoteEvent(
        m["S"], _time(m, "t"), float(m["bp"]), float(m["bs"]), float(m["ap"]), float(m["as"]),
        m.get("bx"), m.get("ax"),
    )


def _status(m: Mapping[str, Any]) -> StatusEvent:
    return StatusEvent(m["S"], _time(m, "t"), str(m["sc"]), str(m.get("sm") or ""))


def _news(m: Mapping[str, Any]) -> NewsEvent:
    updated = m.get("updated_at")
    return NewsEvent(
        str(m["id"]), str(m.get("headline") or ""), _time(m, "created_at"),
        updated if isinstance(updated, datetime) else None, str(m.get("summary") or ""),
        str(m.get("author") or ""), str(m.get("source") or ""), str(m.get("url") or ""),
        tuple(m.get("symbols") or ()), str(m.get("content") or ""),
    )


def _subscription(m: Mapping[str, Any]) -> SubscriptionEvent:
    return SubscriptionEvent({k: tuple(v) for k, v in m.items() if k != "T" and isinstance(v, list)})


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "b": _bar, "u": _bar, "d": _bar, "t": _trade, "q": _quote, "s": _status, "n": _news,
    "success": lambda m: SuccessEvent(str(m.get("msg", ""))),
    "subscription": _subscription,
    "error": lambda m: ErrorEvent(int(m.get("code", 0)), str(m.get("msg", ""))),
}


def parse_message(message: Mapping[str, Any]) -> Event | None:
    """Return the typed event of one message, None for a type this platform ignores.

    MalformedFrameError when a known type lacks a field or has one of the wrong type.
    """
    parser = _PARSERS.get(message.get("T"))  # type: ignore[arg-type]
    if parser is None:
        return None  # corrections, cancel errors, orderbooks, LULDs: not used by the platform
    try:
        event = parser(message)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedFrameError(f"{message.get('T')!r} message is malformed: {type(exc).__name__}: {exc}") from exc
    symbol = getattr(event, "symbol", "x")
    if not isinstance(symbol, str) or not symbol:
        raise MalformedFrameError(f"{message.get('T')!r} message has no symbol")
    return event
