"""Google OAuth at the edge: a token issuer the fake servers consult, and credentials it mints for.

Real Google access tokens are opaque: a server learns whose token it is, and until when, by asking
Google. `TokenIssuer` is that answer for the local fakes (the GKE API, the Kubernetes API server):
`account_of(token)` is the account, or None for an unknown, expired or revoked token.
`IssuedCredentials` is a google-auth `Credentials` whose `refresh` mints a new token, as a service
account's credentials do on the metadata server; the code under test uses it like any other.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading

from google.auth import credentials as google_credentials
from google.auth.exceptions import RefreshError


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # google-auth's naive UTC


class TokenIssuer:
    """Mint, look up and expire opaque access tokens."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, dt.datetime]] = {}
        self._disabled: set[str] = set()
        self._lock = threading.Lock()
        self.minted: list[str] = []  # every token, in order

    def mint(self, account: str, lifetime: dt.timedelta) -> tuple[str, dt.datetime]:
        """A new token for `account` and its expiry; RefreshError when the account is disabled."""
        with self._lock:
            if account in self._disabled:
                raise RefreshError(f"('invalid_grant: account {account} is disabled', ...)")
            token = f"ya29.fake-{secrets.token_urlsafe(12)}"
            expiry = _utcnow() + lifetime
            self._tokens[token] = (account, expiry)
            self.minted.append(token)
            return token, expiry

    def account_of(self, token: str) -> str | None:
        """Whose token this is, while it is valid."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or _utcnow() >= found[1]:
            return None
        return found[0]

    def expire(self, token: str) -> None:
        """Make `token` expired, as if its hour had passed."""
        with self._lock:
            account, _ = self._tokens[token]
            self._tokens[token] = (account, _utcnow() - dt.timedelta(seconds=1))

    def disable(self, account: str) -> None:
        """Refuse new tokens for `account` (a deleted or disabled service account)."""
        with self._lock:
            self._disabled.add(account)


class IssuedCredentials(google_credentials.Credentials):
    """Credentials of one service account: each refresh mints a token valid for `lifetime`."""

    def __init__(self, issuer: TokenIssuer, account: str, *, lifetime: dt.timedelta = dt.timedelta(hours=1)) -> None:
        super().__init__()
        self.issuer, self.account, self.lifetime = issuer, account, lifetime
        self.refreshes = 0

    def refresh(self, request: object) -> None:
        """Mint a new token (the request transport is unused: the issuer is in-process)."""
        self.token, self.expiry = self.issuer.mint(self.account, self.lifetime)
        self.refreshes += 1

    def expire_now(self) -> None:
        """The client's view of the hour passing: the held token is no longer valid."""
        self.expiry = _utcnow() - dt.timedelta(seconds=1)
