"""The bar sizes the platform knows: one definition for bars, backtests, sessions and feeds."""

from __future__ import annotations

from enum import StrEnum

from shared.errors import InvalidInputError


class Timeframe(StrEnum):
    """A bar size, spelled as Alpaca spells it (the value stored in documents and tables)."""

    MINUTE = "1Min"
    FIVE_MINUTES = "5Min"
    FIFTEEN_MINUTES = "15Min"
    HOUR = "1Hour"
    DAY = "1Day"

    @classmethod
    def parse(cls, value: object) -> Timeframe:
        """The timeframe `value` names; InvalidInputError (one message everywhere) otherwise."""
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value)
        raise InvalidInputError(f"timeframe must be one of {TIMEFRAMES}, got {value!r}")

    @property
    def minutes(self) -> int:
        """Its length in minutes (a day counts as one session day: 1,440)."""
        return _MINUTES[self]

    @property
    def seconds(self) -> int:
        return self.minutes * 60

    @property
    def is_intraday(self) -> bool:
        return self is not Timeframe.DAY

    @property
    def unit_and_compression(self) -> tuple[str, int]:
        """("minutes", n) or ("days", 1): what a bar-based engine such as backtrader is told."""
        return ("days", 1) if self is Timeframe.DAY else ("minutes", self.minutes)


_MINUTES = {Timeframe.MINUTE: 1, Timeframe.FIVE_MINUTES: 5, Timeframe.FIFTEEN_MINUTES: 15,
            Timeframe.HOUR: 60, Timeframe.DAY: 1440}
TIMEFRAMES: tuple[str, ...] = tuple(t.value for t in Timeframe)
