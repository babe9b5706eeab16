from . import filters  # noqa: F401  (kept to show sibling imports)


def position_size(cash: float, price: float, fraction: float = 0.1) -> int:
    return int(cash * fraction // price)
