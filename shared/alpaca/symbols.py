"""Symbol forms: the one place where Alpaca's crypto spellings (`BTCUSD`, `BTC/USD`) are mapped."""

from __future__ import annotations

from shared.errors import InvalidInputError

CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


def canonical_symbol(symbol: str, asset_class: str | None = None) -> str:
    """The one form the platform uses for a symbol: `BTC/USD` for crypto, `AAPL` for stocks.

    Alpaca takes and returns `BTC/USD` on orders but reports positions as `BTCUSD`; the
    market-data topics and the agents' data names use the slash form. Without `asset_class`
    an unslashed symbol counts as crypto only when it ends in a crypto quote currency after a
    base of at least three letters (no listed US stock ticker looks like that).
    """
    text = symbol.strip().upper()
    if not text:
        raise InvalidInputError("symbol must not be empty")
    if "/" in text or asset_class not in (None, "crypto"):
        return text
    shortest = 2 if asset_class == "crypto" else 3
    for quote in CRYPTO_QUOTES:
        base = text[: -len(quote)]
        if text.endswith(quote) and len(base) >= shortest and base.isalpha():
            return f"{base}/{quote}"
    return text
