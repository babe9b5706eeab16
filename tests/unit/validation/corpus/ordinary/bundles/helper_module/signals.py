import math


def breakout(closes: list[float]) -> bool:
    """True when the last close is above every earlier close in the window."""
    if len(closes) < 2 or any(math.isnan(c) for c in closes):
        return False
    return closes[-1] > max(closes[:-1])
