"""Frames of Alpaca's market-data streams: msgpack (binary) or JSON (text), arrays of messages.

Every server frame is a list of maps keyed by `T`: `success`, `subscription`, `error` (control),
`b` bar, `u` updated bar, `d` daily bar, `t` trade, `q` quote, `s` trading status, `n` news.
msgpack frames carry timestamps as msgpack Timestamp extensions; JSON frames as RFC 3339 text.
Decoding turns both into timezone-aware UTC datetimes, so callers never see the difference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgpack

from shared.errors import InvalidInputError

StreamKind = Literal["stocks", "crypto", "news"]  # the three market-data streams the ingester holds
CONTENT_TYPE_MSGPACK = "application/msgpack"
CRYPTO_PATH = "/v1beta3/crypto/us"
NEWS_PATH = "/v1beta1/news"
STOCK_FEEDS: tuple[str, ...] = ("iex", "sip", "delayed_sip", "test")
DATA_TYPES: frozenset[str] = frozenset({"b", "u", "d", "t", "q", "s", "n"})
CONTROL_TYPES: frozenset[str] = frozenset({"success", "subscription", "error"})
# Subscription channels of the `subscribe` action, and the message type each one delivers.
CHANNELS: dict[str, str] = {
    "bars": "b",
    "updatedBars": "u",
    "dailyBars": "d",
    "trades": "t",
    "quotes": "q",
    "statuses": "s",
    "news": "n",
}

# Alpaca's documented error codes.
ERR_INVALID_SYNTAX = 400
ERR_AUTH_REQUIRED = 401
ERR_AUTH_FAILED = 402
ERR_ALREADY_AUTHENTICATED = 403
ERR_AUTH_TIMEOUT = 404
ERR_SYMBOL_LIMIT = 405
ERR_CONNECTION_LIMIT = 406
ERR_SLOW_CLIENT = 407
ERR_INSUFFICIENT_SUBSCRIPTION = 409
ERR_INVALID_SUBSCRIPTION = 410
ERR_INTERNAL = 500
ERROR_MESSAGES: dict[int, str] = {
    ERR_INVALID_SYNTAX: "invalid syntax",
    ERR_AUTH_REQUIRED: "not authenticated",
    ERR_AUTH_FAILED: "auth failed",
    ERR_ALREADY_AUTHENTICATED: "already authenticated",
    ERR_AUTH_TIMEOUT: "auth timeout",
    ERR_SYMBOL_LIMIT: "symbol limit exceeded",
    ERR_CONNECTION_LIMIT: "connection limit exceeded",
    ERR_SLOW_CLIENT: "slow client",
    ERR_INSUFFICIENT_SUBSCRIPTION: "insufficient subscription",
    ERR_INVALID_SUBSCRIPTION: "invalid subscribe action for this feed",
    ERR_INTERNAL: "internal error",
}

_TIME_KEYS = ("t", "created_at", "updated_at")


class MalformedFrameError(InvalidInputError):
    """A frame that is not an array of `T`-keyed maps in msgpack or JSON."""


def stock_path(feed: str) -> str:
    """Return the stream path of a stock feed (`iex` -> `/v2/iex`)."""
    if feed not in STOCK_FEEDS:
        raise InvalidInputError(f"stock feed must be one of {STOCK_FEEDS}, got {feed!r}")
    return f"/v2/{feed}"


def decode_frame(frame: bytes | str) -> list[dict[str, Any]]:
    """Parse one frame (bytes: msgpack, str: JSON) into its messages; MalformedFrameError if bad."""
    try:
        if isinstance(frame, bytes | bytearray | memoryview):
            body = msgpack.unpackb(frame, timestamp=3, strict_map_key=False)
        else:
            body = json.loads(frame)
    except Exception as exc:  # msgpack raises several unrelated types for corrupt input
        raise MalformedFrameError(f"undecodable frame: {type(exc).__name__}: {exc}") from exc
    if isinstance(body, dict):
        body = [body]  # client actions are single maps; servers always send arrays
    if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
        raise MalformedFrameError(f"frame must be an array of maps, got {type(body).__name__}")
    if isinstance(frame, str):
        for message in body:
            for key in _TIME_KEYS:
                value = message.get(key)
                if isinstance(value, str):
                    message[key] = parse_time(value)
    return body


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (nanoseconds are truncated to microseconds) as UTC."""
    try:
        head, _, frac = text.rstrip("Z").partition(".")
        if "+" in frac or "-" in frac:
            raise ValueError("offsets other than Z are not used by Alpaca")
        stamp = datetime.fromisoformat(head).replace(tzinfo=UTC)
        if frac:
            stamp = stamp.replace(microsecond=int(frac[:6].ljust(6, "0")))
        return stamp
    except ValueError as exc:
        raise MalformedFrameError(f"bad timestamp {text!r}: {exc}") from exc


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode_frame(messages: Sequence[Mapping[str, Any]] | Mapping[str, Any], *, binary: bool = True) -> bytes | str:
    """Encode messages (or one client action) as msgpack bytes or JSON text; datetimes as timestamps."""
    body = dict(messages) if isinstance(messages, Mapping) else [dict(m) for m in messages]
    if binary:
        return msgpack.packb(body, datetime=True)
    return json.dumps(body, default=_json_default, separators=(",", ":"))


def error_message(code: int, msg: str | None = None) -> dict[str, Any]:
    """Return Alpaca's error control message for `code`."""
    return {"T": "error", "code": code, "msg": msg or ERROR_MESSAGES.get(code, "error")}
