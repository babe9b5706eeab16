"""Contract for IdentityVerifier, run against every adapter that can run here.

- local: LocalIdentityVerifier (key under data_dir, its own certificate server);
- firebase-with-local-certs: the gcp adapter, FirebaseIdentityVerifier, pointed at a local
  certificate server instead of Google's (everything else is firebase-admin's production path).
Every token is real RS256 crypto; certificates are fetched over real HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared.adapters.gcp.firebase_identity import AnonymousCredential, FirebaseIdentityVerifier
from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.adapters.memory import MemoryIdentityVerifier
from shared.errors import AuthenticationError
from shared.identity import LOCAL_PROJECT
from shared.identity.cert_server import CertificateServer
from shared.identity.local_keys import SigningKey, generate_signing_key, load_or_create_signing_key
from shared.identity.minting import mint_id_token
from shared.ports.identity import IdentityVerifier, Principal
from tests.unit.identity.forgery import (
    firebase_claims,
    hs256_with_public_certificate,
    sign_rs256,
    sign_rs256_without_kid,
    unsigned,
    with_payload,
)


@dataclass
class Subject:
    verifier: IdentityVerifier
    key: SigningKey  # the key whose certificate the verifier trusts


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return generate_signing_key("attacker")


@pytest.fixture(scope="module", params=["local", "firebase-with-local-certs", "memory"])
def subject(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Subject]:
    if request.param == "local":
        data_dir = tmp_path_factory.mktemp("identity")
        verifier = LocalIdentityVerifier(data_dir)
        yield Subject(verifier, load_or_create_signing_key(data_dir))
        verifier.close()
    elif request.param == "memory":
        memory = MemoryIdentityVerifier()
        yield Subject(memory, memory.key)
    else:
        key = generate_signing_key()
        with CertificateServer(key.certificates()) as server:
            verifier = FirebaseIdentityVerifier(
                LOCAL_PROJECT, certs_url=server.url, credential=AnonymousCredential()
            )
            yield Subject(verifier, key)
            verifier.close()


def rejected(subject: Subject, token: str, match: str) -> None:
    with pytest.raises(AuthenticationError, match=match):
        subject.verifier.verify(token)


def test_a_valid_token_yields_uid_email_and_admin_claim(subject: Subject):
    token = mint_id_token(subject.key, "alice", email="alice@example.com", admin=True)
    principal = subject.verifier.verify(f"Bearer {token}")
    assert principal == Principal(uid="alice", email="alice@example.com", admin=True)
    assert principal.claims["firebase"]["sign_in_provider"] == "custom"
    assert principal.claims["aud"] == LOCAL_PROJECT


def test_a_raw_token_without_bearer_is_accepted(subject: Subject):
    principal = subject.verifier.verify(mint_id_token(subject.key, "bob"))
    assert (principal.uid, principal.email, principal.admin) == ("bob", None, False)


def test_admin_requires_the_claim_to_be_literally_true(subject: Subject):
    token = mint_id_token(subject.key, "carol", custom_claims={"admin": "yes"})
    assert subject.verifier.verify(token).admin is False


def test_an_expired_token_is_rejected(subject: Subject):
    token = mint_id_token(subject.key, "alice", ttl_s=60, now=time.time() - 120)
    rejected(subject, token, "expired")


def test_a_token_issued_in_the_future_is_rejected(subject: Subject):
    rejected(subject, mint_id_token(subject.key, "alice", now=time.time() + 600), "too early")


def test_a_tampered_payload_fails_the_signature_check(subject: Subject):
    token = mint_id_token(subject.key, "alice")
    rejected(subject, with_payload(token, firebase_claims("mallory", admin=True)), "signature")


def test_a_token_signed_by_another_key_under_the_same_kid_is_rejected(subject, other_key):
    token = sign_rs256(other_key, firebase_claims("alice"), kid=subject.key.kid)
    rejected(subject, token, "signature")


def test_a_token_with_an_unknown_kid_is_rejected(subject: Subject, other_key: SigningKey):
    rejected(subject, sign_rs256(other_key, firebase_claims("alice")), "key id")


def test_a_token_without_a_kid_is_rejected(subject: Subject):
    rejected(subject, sign_rs256_without_kid(subject.key, firebase_claims("alice")), "kid")


def test_a_token_for_another_project_is_rejected(subject: Subject):
    token = mint_id_token(subject.key, "alice", project="someone-elses-project")
    rejected(subject, token, "aud")


def test_a_token_from_another_issuer_is_rejected(subject: Subject):
    claims = firebase_claims("alice", iss="https://accounts.google.com")
    rejected(subject, sign_rs256(subject.key, claims), "iss")


def test_an_unsigned_alg_none_token_is_rejected(subject: Subject):
    rejected(subject, unsigned(firebase_claims("alice"), kid=subject.key.kid), "algorithm")


def test_hs256_signed_with_the_public_certificate_is_rejected(subject: Subject):
    token = hs256_with_public_certificate(subject.key, firebase_claims("alice", admin=True))
    rejected(subject, token, "algorithm")


def test_an_empty_subject_is_rejected(subject: Subject):
    rejected(subject, sign_rs256(subject.key, firebase_claims("", user_id="x")), "sub")


def test_a_missing_or_future_auth_time_is_rejected(subject: Subject):
    rejected(subject, sign_rs256(subject.key, firebase_claims(auth_time=None)), "auth_time")
    future = firebase_claims(auth_time=int(time.time()) + 600)
    rejected(subject, sign_rs256(subject.key, future), "auth_time")


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Basic YWxpY2U6cHc=", "not-a-jwt"])
def test_a_missing_or_garbage_header_is_rejected(subject: Subject, header):
    with pytest.raises(AuthenticationError):
        subject.verifier.verify(header)
