"""Verify locally minted ID tokens through firebase-admin's own `verify_id_token`.

Why firebase-admin and not `google.oauth2.id_token.verify_token` plus our own claim checks:
in firebase-admin 7, `auth.verify_id_token` runs `_token_gen._JWTVerifier.verify`, which first
checks the header and claims (`kid` present, `alg` exactly RS256, `aud` = project,
`iss` = https://securetoken.google.com/<project>, `sub` a non-empty string of <= 128 chars) and
then calls `google.oauth2.id_token.verify_token(certs_url=...)` for the signature, `exp` and
`iat`. Calling firebase-admin therefore keeps every production check, instead of a copy that
could drift from it. The only difference from production is where the certificates come from:
the SDK copies Google's URL into its verifier when the auth client is built, and we point that
at the local certificate server (see `FirebaseIdentityVerifier(certs_url=...)`).

The SDK skips signature and expiry checks when `FIREBASE_AUTH_EMULATOR_HOST` is set, so this
verifier refuses that variable too: a local token must verify for the same reasons a real one does.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from shared.identity import LOCAL_PROJECT
from shared.identity.cert_server import CertificateServer
from shared.identity.credentials import bearer_token
from shared.identity.local_keys import load_or_create_signing_key
from shared.ports.identity import Principal

if TYPE_CHECKING:
    from shared.adapters.gcp.firebase_identity import FirebaseIdentityVerifier


class LocalIdentityVerifier:
    """IdentityVerifier for tokens from `farm token`, signed by the key under `data_dir`."""

    def __init__(self, data_dir: Path, *, project: str = LOCAL_PROJECT) -> None:
        """Verify tokens for `project` signed with `<data_dir>/identity/signing-key.pem`."""
        self.data_dir = Path(data_dir)
        self.project = project
        self._server: CertificateServer | None = None
        self._firebase: FirebaseIdentityVerifier | None = None  # built on first use
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token (`Bearer` prefix optional)."""
        raw = bearer_token(token)  # reject absent or malformed input before starting anything
        return self._verifier().verify(raw)

    @property
    def certs_url(self) -> str:
        """The local certificate endpoint (starts it if needed)."""
        self._verifier()
        assert self._server is not None
        return self._server.url

    def close(self) -> None:
        """Stop the certificate server and drop the Firebase app (both restart on next use)."""
        with self._lock:
            firebase, server = self._firebase, self._server
            self._firebase = self._server = None
        if firebase is not None:
            firebase.close()
        if server is not None:
            server.close()

    def _verifier(self) -> FirebaseIdentityVerifier:
        with self._lock:
            if self._firebase is None:
                # Imported here so that merely wiring the local backend loads no Google library.
                from shared.adapters.gcp.firebase_identity import (
                    AnonymousCredential,
                    FirebaseIdentityVerifier,
                )

                key = load_or_create_signing_key(self.data_dir)
                server = CertificateServer(key.certificates())
                try:
                    self._firebase = FirebaseIdentityVerifier(
                        self.project, certs_url=server.url, credential=AnonymousCredential()
                    )
                except BaseException:
                    server.close()
                    raise
                self._server = server
            return self._firebase
