def trend_up(now: float, before: float) -> bool:
    return now > before
