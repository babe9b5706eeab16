"""Identity port: turn a bearer token into a verified caller (SPEC §3, §13)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol


@dataclass(frozen=True)
class Principal:
    """A verified caller: who they are and what the token says about them."""

    uid: str
    email: str | None = None
    admin: bool = False
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        # Read-only so a handler cannot grant itself claims after verification.
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))


class IdentityVerifier(Protocol):
    """Verify Firebase-shaped ID tokens."""

    def verify(self, token: str) -> Principal:
        """Return the token's principal; raise AuthenticationError when it does not verify."""
        ...

    def close(self) -> None:
        """Release what verification started (a certificate server, an SDK app)."""
        ...
