"""Verify Firebase ID tokens with firebase-admin's `auth.verify_id_token`.

The Firebase app is initialised on first use, never at import time. When
`FIREBASE_AUTH_EMULATOR_HOST` is set, firebase-admin skips the signature *and* expiry checks,
so this verifier refuses to start, and refuses to verify, while it is set.

Errors: every token problem (expired, revoked, bad signature, unknown kid, wrong audience or
issuer, disabled user) becomes AuthenticationError (401); a failure to fetch the signing
certificates or to reach Firebase Auth becomes TransientError (503), since the token may be fine.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any

import firebase_admin
import google.auth.credentials
from firebase_admin import auth, credentials, exceptions

from shared.errors import AuthenticationError, SettingsError, TransientError
from shared.identity.credentials import bearer_token
from shared.ports.identity import Principal

log = logging.getLogger(__name__)

EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST"


class AnonymousCredential(credentials.Base):
    """A firebase-admin credential that carries no identity (for local certificate checks).

    Verifying a token needs no Google credential, but firebase-admin's auth client asks for
    one when it is built; this keeps it from searching the machine for application defaults.
    """

    def get_credential(self) -> google.auth.credentials.Credentials:
        """Return anonymous google-auth credentials."""
        return google.auth.credentials.AnonymousCredentials()


class FirebaseIdentityVerifier:
    """IdentityVerifier over firebase-admin, for tokens issued by Firebase Auth."""

    def __init__(
        self,
        project: str,
        *,
        check_revoked: bool = False,
        certs_url: str | None = None,
        credential: credentials.Base | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        """Verify tokens whose audience is `project`.

        `certs_url` replaces Google's certificate endpoint (for locally signed tokens);
        `check_revoked` also asks Firebase Auth whether the session was revoked.
        """
        refuse_auth_emulator()
        if not project:
            raise SettingsError(
                "a Firebase project id is required: set FARM_FIREBASE_PROJECT or FARM_GCP_PROJECT"
            )
        self.project = project
        self._check_revoked = check_revoked
        self._certs_url = certs_url
        self._credential = credential
        self._timeout_s = timeout_s
        self._app: firebase_admin.App | None = None
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid ID token (`Bearer` prefix optional)."""
        refuse_auth_emulator()  # firebase-admin reads the variable on every call
        raw = bearer_token(token)
        app = self._firebase_app()
        try:
            claims = auth.verify_id_token(raw, app=app, check_revoked=self._check_revoked)
        except auth.CertificateFetchError as exc:
            # The token may be fine; the key endpoint is not. A 401 would make clients drop it.
            raise TransientError(f"cannot fetch token signing certificates: {exc}") from exc
        except (auth.InvalidIdTokenError, auth.UserDisabledError, auth.UserNotFoundError, ValueError) as exc:
            raise AuthenticationError(_refusal(exc)) from exc
        except exceptions.FirebaseError as exc:
            raise TransientError(f"Firebase Auth failed while checking the token: {exc}") from exc
        _check_auth_time(claims)
        return principal_from_claims(claims)

    def close(self) -> None:
        """Delete the Firebase app this verifier created (it is recreated on next use)."""
        with self._lock:
            app, self._app = self._app, None
        if app is not None:
            firebase_admin.delete_app(app)

    def _firebase_app(self) -> firebase_admin.App:
        with self._lock:
            if self._app is None:
                # A private app per verifier: its options never clash with another's default app.
                self._app = firebase_admin.initialize_app(
                    self._credential or credentials.ApplicationDefault(),
                    options={"projectId": self.project, "httpTimeout": self._timeout_s},
                    name=f"farm-identity-{uuid.uuid4().hex}",
                )
                if self._certs_url:
                    _use_certificates_from(self._app, self._certs_url)
            return self._app


def refuse_auth_emulator() -> None:
    """Raise SettingsError while the Auth emulator variable is set (it disables signatures)."""
    if os.environ.get(EMULATOR_ENV):
        raise SettingsError(
            f"{EMULATOR_ENV} is set: firebase-admin would accept unsigned and expired tokens. "
            "Unset it; the Auth emulator is never used to verify tokens in this platform."
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build a Principal from verified Firebase claims (custom claim `admin` must be true)."""
    email = claims.get("email")
    return Principal(
        uid=str(claims["uid"]),
        email=email if isinstance(email, str) else None,
        admin=claims.get("admin") is True,
        claims=claims,
    )


def _check_auth_time(claims: dict[str, Any]) -> None:
    # Firebase requires `auth_time` in the past; firebase-admin for Python does not check it
    # (the Node SDK does), so the check is added here for both backends.
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        raise AuthenticationError('invalid ID token: no numeric "auth_time" (authentication time)')
    if auth_time > time.time():
        raise AuthenticationError('invalid ID token: "auth_time" is in the future')


def _use_certificates_from(app: firebase_admin.App, certs_url: str) -> None:
    # firebase-admin 7 reads Google's certificate URL into `_JWTVerifier.cert_url` when the
    # auth client is built and offers no option for it; pointing that one attribute elsewhere
    # keeps every other check (kid, RS256, aud, iss, sub, signature, expiry) the SDK's own.
    client = auth._get_client(app)
    verifier = getattr(getattr(client, "_token_verifier", None), "id_token_verifier", None)
    if verifier is None or not hasattr(verifier, "cert_url"):
        raise SettingsError(
            f"firebase-admin {firebase_admin.__version__} no longer exposes its certificate URL; "
            "local token verification needs updating for this version"
        )
    verifier.cert_url = certs_url


# Why a token is refused, in words its holder can act on; the first match wins (an expired or a
# revoked token is also an invalid one). Any other refusal says what firebase-admin found.
_REFUSALS: tuple[tuple[type[Exception], str], ...] = (
    (auth.ExpiredIdTokenError, "ID token has expired; sign in again for a new one"),
    (auth.RevokedIdTokenError, "ID token has been revoked; sign in again"),
    (auth.UserDisabledError, "the user account is disabled"),
    (auth.UserNotFoundError, "the token's user no longer exists"),
)


def _refusal(exc: Exception) -> str:
    return next((words for kind, words in _REFUSALS if isinstance(exc, kind)), f"invalid ID token: {exc}")
