"""MemoryBlobStore: the blobs port in a dict, for fast service tests (keys checked as GCS's are)."""

from __future__ import annotations

import threading

from shared.adapters.blob_keys import check_key, check_prefix
from shared.errors import ConflictError, InvalidInputError, NotFoundError

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class MemoryBlobStore:
    """Objects and their content types in this process's memory."""

    def __init__(self) -> None:
        self._objects: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE,
            if_absent: bool = False) -> None:
        """Store `data` at `key`; with `if_absent`, ConflictError when the key exists."""
        check_key(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"blob data must be bytes, got {type(data).__name__}")
        with self._lock:
            if if_absent and key in self._objects:
                raise ConflictError(f"a blob already exists at {key!r}")
            self._objects[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        """Return the object's bytes; NotFoundError when missing."""
        return self._object(key)[0]

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        check_key(key)
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        """Delete the object (no error when missing)."""
        check_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def list(self, prefix: str = "") -> list[str]:
        """Keys that start with `prefix`, sorted."""
        check_prefix(prefix)
        with self._lock:
            return sorted(key for key in self._objects if key.startswith(prefix))

    def content_type(self, key: str) -> str:
        """Return the content type the object was stored with; NotFoundError when missing."""
        return self._object(key)[1]

    def close(self) -> None:
        """Nothing to release."""

    def _object(self, key: str) -> tuple[bytes, str]:
        check_key(key)
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise NotFoundError(f"no blob at {key!r}")
        return found
