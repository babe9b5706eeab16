"""Hand-built JWTs for attack tests: any header, any claims, any (or no) signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt

from shared.identity import ISSUER_PREFIX, LOCAL_PROJECT
from shared.identity.local_keys import SigningKey


def b64url(data: bytes) -> str:
    """Encode without padding, as JWTs do."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def firebase_claims(uid: str = "alice", *, project: str = LOCAL_PROJECT, **overrides: Any) -> dict:
    """Claims of a valid Firebase ID token, with `overrides` applied (None removes a claim)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER_PREFIX + project,
        "aud": project,
        "auth_time": now,
        "user_id": uid,
        "sub": uid,
        "iat": now,
        "exp": now + 3600,
        "firebase": {"identities": {}, "sign_in_provider": "custom"},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign_rs256(key: SigningKey, claims: dict, *, kid: str | None = None) -> str:
    """Sign `claims` properly with `key`, under header kid `kid` (default: the key's)."""
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": kid or key.kid})


def sign_rs256_without_kid(key: SigningKey, claims: dict) -> str:
    """Sign `claims` properly with `key` but leave `kid` out of the header."""
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256")


def unsigned(claims: dict, *, kid: str) -> str:
    """An `alg: none` token: a header, the claims and an empty signature."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."


def hs256_with_public_certificate(key: SigningKey, claims: dict) -> str:
    """The algorithm-confusion attack: HMAC-sign with the public certificate as the secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    mac = hmac.new(key.certificate_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def with_payload(token: str, claims: dict) -> str:
    """Replace a signed token's payload, keeping its header and original signature."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"
