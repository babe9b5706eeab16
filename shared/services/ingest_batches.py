"""A thread-safe queue of items per topic (or table), taken in batches from the head."""

from __future__ import annotations

import threading
from typing import Any


class BatchQueue:
    """Items per key with their arrival times; a batch leaves only when `drop` confirms it was sent."""

    def __init__(self) -> None:
        self._items: dict[str, list[Any]] = {}
        self._times: dict[str, list[float]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def put(self, key: str, items: list[Any], received_at: float) -> None:
        """Append `items`, all received at `received_at` (monotonic seconds)."""
        if not items:
            return
        with self._lock:
            self._items.setdefault(key, []).extend(items)
            self._times.setdefault(key, []).extend([received_at] * len(items))
            self._size += len(items)

    def topics(self) -> list[str]:
        """The keys that have items queued."""
        with self._lock:
            return [k for k, v in self._items.items() if v]

    def due(self, batch: int, max_delay_s: float, now: float) -> bool:
        """Whether some key has a full batch or an item older than `max_delay_s`."""
        with self._lock:
            return any(
                len(items) >= batch or (items and now - self._times[key][0] >= max_delay_s)
                for key, items in self._items.items()
            )

    def peek(self, key: str, limit: int) -> tuple[list[Any], list[float]] | None:
        """Return up to `limit` items from the head of `key` (and their times) without removing them."""
        with self._lock:
            items = self._items.get(key)
            if not items:
                return None
            return items[:limit], self._times[key][:limit]

    def drop(self, key: str, count: int) -> None:
        """Remove `count` items from the head of `key` once they have been sent."""
        with self._lock:
            del self._items[key][:count]
            del self._times[key][:count]
            self._size -= count

