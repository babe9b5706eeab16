"""Extract the bearer token from an `Authorization` header (or accept a raw token)."""

from __future__ import annotations

import re

from shared.errors import AuthenticationError

MAX_TOKEN_CHARS = 16_384  # Firebase ID tokens are ~1 KB; anything huge is not a token
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def bearer_token(authorization_header: str | None) -> str:
    """Return the token in `Bearer <token>` or a raw `<token>`; AuthenticationError otherwise."""
    if authorization_header is None or not authorization_header.strip():
        raise AuthenticationError(
            "missing credentials: send 'Authorization: Bearer <Firebase ID token>'"
        )
    if len(authorization_header) > MAX_TOKEN_CHARS:
        raise AuthenticationError(f"Authorization header is longer than {MAX_TOKEN_CHARS} characters")
    parts = authorization_header.strip().split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        token = parts[1]
    elif len(parts) == 1:
        token = parts[0]
    else:
        raise AuthenticationError(
            f"unsupported Authorization value (scheme {parts[0]!r}): "
            "expected 'Bearer <Firebase ID token>' or the raw token"
        )
    if not _JWT_SHAPE.fullmatch(token):
        raise AuthenticationError("malformed ID token: expected a JWT (three base64url segments)")
    return token
