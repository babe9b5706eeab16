"""MemoryIdentityVerifier: Firebase-shaped ID tokens checked in this process, no certificate server.

The key is held in memory (the one given, or one generated per process on first use: an RSA key
takes a tenth of a second and fast tests build many verifiers), and `mint()` issues tokens for
it, so a fast test signs users in without a data directory. Verification is google-auth's
(RS256 signature by `kid`, expiry, audience) plus Firebase's own rules: the issuer, a subject of
1..128 characters and an authentication time in the past.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from google.auth import jwt

from shared.errors import AuthenticationError
from shared.identity import ISSUER_PREFIX, LOCAL_PROJECT
from shared.identity.credentials import bearer_token
from shared.identity.local_keys import SigningKey, generate_signing_key
from shared.identity.minting import mint_id_token
from shared.ports.identity import Principal

MAX_SUBJECT_CHARS = 128
CLOCK_SKEW_S = 0  # Firebase allows none either


class MemoryIdentityVerifier:
    """Verify tokens signed by `key` for `project`; `mint()` issues them."""

    def __init__(self, key: SigningKey | None = None, *, project: str = LOCAL_PROJECT) -> None:
        self.key = key or _process_key()
        self.project = project

    def mint(self, uid: str, **options: Any) -> str:
        """A valid ID token for `uid` (options as `mint_id_token`'s: email, admin, ttl_s, ...)."""
        return mint_id_token(self.key, uid, project=self.project, **options)

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token (`Bearer` prefix optional)."""
        raw = bearer_token(token)
        try:
            header = jwt.decode_header(raw)
            if header.get("alg") != "RS256":
                raise ValueError(f'ID token has incorrect algorithm {header.get("alg")!r}; expected "RS256"')
            if not header.get("kid"):
                raise ValueError('ID token has no "kid" claim')
            if header["kid"] not in self.key.certificates():
                raise ValueError(f"ID token has an unknown key id {header['kid']!r}")
            claims = jwt.decode(raw, certs=self.key.certificates(), audience=self.project,
                                clock_skew_in_seconds=CLOCK_SKEW_S)
        except (ValueError, TypeError, KeyError) as exc:
            raise AuthenticationError(f"invalid ID token: {exc}") from exc
        _check_firebase_claims(claims, self.project)
        email = claims.get("email")
        return Principal(uid=claims["sub"], email=email if isinstance(email, str) else None,
                         admin=claims.get("admin") is True, claims={**claims, "uid": claims["sub"]})

    def close(self) -> None:
        """Nothing to release."""


@cache
def _process_key() -> SigningKey:
    return generate_signing_key("farm-memory securetoken")


def _check_firebase_claims(claims: dict[str, Any], project: str) -> None:
    if claims.get("iss") != ISSUER_PREFIX + project:
        raise AuthenticationError(f'invalid ID token: "iss" is not {ISSUER_PREFIX + project}')
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise AuthenticationError('invalid ID token: "sub" must be a string of 1..128 characters')
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        raise AuthenticationError('invalid ID token: no numeric "auth_time" (authentication time)')
    if auth_time > time.time():
        raise AuthenticationError('invalid ID token: "auth_time" is in the future')
