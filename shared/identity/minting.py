"""Mint Firebase-shaped ID tokens signed with the local key (what `farm token` prints).

The claims mirror a token from Firebase Auth's securetoken service, so the verifiers run
firebase-admin's own checks on them unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from shared.errors import InvalidInputError
from shared.identity import ISSUER_PREFIX, LOCAL_PROJECT
from shared.identity.local_keys import SigningKey

DEFAULT_TTL_S = 3600
MAX_UID_CHARS = 128  # Firebase rejects longer `sub` claims
# Claims Firebase owns; custom claims may not override them (same list as firebase-admin's).
RESERVED_CLAIMS = frozenset(
    {"acr", "amr", "at_hash", "aud", "auth_time", "azp", "cnf", "c_hash", "exp", "iat",
     "iss", "jti", "nbf", "nonce", "sub", "firebase", "user_id", "email"}
)


def mint_id_token(
    key: SigningKey,
    uid: str,
    *,
    project: str = LOCAL_PROJECT,
    email: str | None = None,
    admin: bool = False,
    ttl_s: int = DEFAULT_TTL_S,
    custom_claims: Mapping[str, Any] | None = None,
    sign_in_provider: str = "custom",
    now: float | None = None,
) -> str:
    """Return an RS256 ID token for `uid`, valid for `ttl_s` seconds from `now`."""
    if not uid or not uid.strip():
        raise InvalidInputError("a user id is required to mint a token")
    if len(uid) > MAX_UID_CHARS:
        raise InvalidInputError(f"user id is longer than {MAX_UID_CHARS} characters")
    if ttl_s <= 0:
        raise InvalidInputError(f"token lifetime must be positive, got {ttl_s} s")
    custom = dict(custom_claims or {})
    clashes = sorted(RESERVED_CLAIMS & custom.keys())
    if clashes:
        raise InvalidInputError(f"custom claims may not set reserved claim(s) {', '.join(clashes)}")
    issued = int(time.time() if now is None else now)
    identities: dict[str, list[str]] = {"email": [email]} if email else {}
    claims: dict[str, Any] = {
        **custom,
        "iss": ISSUER_PREFIX + project,
        "aud": project,
        "auth_time": issued,
        "user_id": uid,
        "sub": uid,
        "iat": issued,
        "exp": issued + int(ttl_s),
        "firebase": {"identities": identities, "sign_in_provider": sign_in_provider},
    }
    if email:
        claims["email"] = email
        claims["email_verified"] = True
    if admin:
        claims["admin"] = True
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
