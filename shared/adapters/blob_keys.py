"""Blob key rules shared by every BlobStore adapter, so a key valid on one is valid on all."""

from __future__ import annotations

from shared.errors import InvalidInputError

MAX_KEY_BYTES = 1024  # Cloud Storage's object-name limit


def check_key(key: str) -> str:
    """Return `key` when it is a safe relative slash-separated path; InvalidInputError otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"blob key must be a non-empty string, got {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidInputError(f"blob key is longer than {MAX_KEY_BYTES} bytes")
    if "\\" in key or "\x00" in key:
        raise InvalidInputError(f"blob key {key!r} contains a backslash or NUL")
    if key.startswith("/"):
        raise InvalidInputError(f"blob key {key!r} must be relative (no leading '/')")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidInputError(
                f"blob key {key!r} has an empty, '.' or '..' segment; use 'a/b/c' keys"
            )
    return key


def check_prefix(prefix: str) -> str:
    """Return `prefix` when it cannot point outside the store (it may end mid-segment or in '/')."""
    if not isinstance(prefix, str):
        raise InvalidInputError(f"blob prefix must be a string, got {prefix!r}")
    if prefix:
        body = prefix.removesuffix("/")
        check_key(body or "x")  # a lone "/" is caught by the leading-slash rule below
        if prefix.startswith("/"):
            raise InvalidInputError(f"blob prefix {prefix!r} must be relative (no leading '/')")
    return prefix
