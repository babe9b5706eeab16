import time

import jwt
import pytest
from cryptography import x509

from shared.errors import InvalidInputError
from shared.identity import LOCAL_PROJECT
from shared.identity.local_keys import SigningKey, generate_signing_key
from shared.identity.minting import mint_id_token


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key()


def decode(key: SigningKey, token: str, audience: str = LOCAL_PROJECT) -> dict:
    public = x509.load_pem_x509_certificate(key.certificate_pem).public_key()
    return jwt.decode(token, public, algorithms=["RS256"], audience=audience)


def test_mints_a_firebase_shaped_rs256_token_with_the_key_id(key):
    before = int(time.time())
    token = mint_id_token(key, "alice", email="alice@example.com", admin=True)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    claims = decode(key, token)
    assert claims["iss"] == "https://securetoken.google.com/farm-local"
    assert claims["aud"] == "farm-local"
    assert claims["sub"] == claims["user_id"] == "alice"
    assert before <= claims["iat"] == claims["auth_time"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True
    assert claims["admin"] is True
    assert claims["firebase"] == {
        "identities": {"email": ["alice@example.com"]},
        "sign_in_provider": "custom",
    }


def test_leaves_out_email_and_admin_when_not_asked_for(key):
    claims = decode(key, mint_id_token(key, "bob"))
    assert "email" not in claims and "admin" not in claims


def test_honours_project_ttl_and_custom_claims(key):
    token = mint_id_token(key, "bob", project="p1", ttl_s=60, custom_claims={"tier": "pro"})
    claims = decode(key, token, audience="p1")
    assert claims["exp"] - claims["iat"] == 60
    assert claims["tier"] == "pro"


@pytest.mark.parametrize("uid", ["", "   ", "x" * 129])
def test_rejects_an_empty_or_overlong_uid(key, uid):
    with pytest.raises(InvalidInputError, match="user id"):
        mint_id_token(key, uid)


@pytest.mark.parametrize("ttl", [0, -5])
def test_rejects_a_non_positive_lifetime(key, ttl):
    with pytest.raises(InvalidInputError, match="lifetime"):
        mint_id_token(key, "alice", ttl_s=ttl)


def test_custom_claims_cannot_override_reserved_ones(key):
    with pytest.raises(InvalidInputError, match="aud, sub"):
        mint_id_token(key, "alice", custom_claims={"sub": "root", "aud": "other"})
