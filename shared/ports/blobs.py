"""Blobs port: Cloud Storage-shaped objects under slash-separated keys."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """Immutable-ish byte objects (agent bundles, reports) addressed by key."""

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_absent: bool = False,
    ) -> None:
        """Store `data` at `key`; with `if_absent`, ConflictError when the key exists."""
        ...

    def get(self, key: str) -> bytes:
        """Return the object's bytes; NotFoundError when missing."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        ...

    def delete(self, key: str) -> None:
        """Delete the object (no error when missing)."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""
        ...

    def close(self) -> None:
        """Release the store's clients (the application calls it once, at the end)."""
        ...
