"""LocalIdentityVerifier specifics; the shared token checks live in the contract suite."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.errors import AuthenticationError, SettingsError
from shared.identity.local_keys import identity_dir, load_or_create_signing_key
from shared.identity.minting import mint_id_token
from tests.unit.identity.forgery import firebase_claims, unsigned

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def verifier(tmp_path):
    verifier = LocalIdentityVerifier(tmp_path)
    yield verifier
    verifier.close()


def test_creates_nothing_and_starts_no_server_until_first_use(tmp_path, verifier):
    assert not identity_dir(tmp_path).exists()
    with pytest.raises(AuthenticationError):
        verifier.verify("garbage")
    assert not identity_dir(tmp_path).exists()


def test_a_token_minted_by_farm_token_in_another_process_verifies_here(tmp_path, verifier):
    env = {"PATH": "/usr/bin:/bin", "FARM_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "farm", "token", "--user", "alice", "--admin",
         "--email", "alice@example.com", "--ttl", "600"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    principal = verifier.verify(f"Bearer {result.stdout.strip()}")
    assert (principal.uid, principal.email, principal.admin) == ("alice", "alice@example.com", True)
    assert principal.claims["exp"] - principal.claims["iat"] == 600


def test_keys_persist_across_verifier_instances(tmp_path):
    token = mint_id_token(load_or_create_signing_key(tmp_path), "bob")
    for _ in range(2):
        verifier = LocalIdentityVerifier(tmp_path)
        try:
            assert verifier.verify(token).uid == "bob"
        finally:
            verifier.close()


def test_a_verifier_over_another_data_dir_rejects_the_token(tmp_path):
    token = mint_id_token(load_or_create_signing_key(tmp_path / "a"), "bob")
    verifier = LocalIdentityVerifier(tmp_path / "b")
    try:
        with pytest.raises(AuthenticationError, match="key id"):
            verifier.verify(token)
    finally:
        verifier.close()


def test_serves_its_certificate_until_closed_then_restarts_on_demand(tmp_path, verifier):
    token = mint_id_token(load_or_create_signing_key(tmp_path), "carol")
    url = verifier.certs_url
    assert list(requests.get(url, timeout=5).json()) == [load_or_create_signing_key(tmp_path).kid]
    verifier.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    assert verifier.verify(token).uid == "carol"


def test_refuses_to_verify_while_the_auth_emulator_variable_is_set(tmp_path, verifier, monkeypatch):
    # With it set, firebase-admin skips signatures and would accept this forged token.
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    kid = load_or_create_signing_key(tmp_path).kid
    with pytest.raises(SettingsError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        verifier.verify(unsigned(firebase_claims("mallory", admin=True), kid=kid))


def test_concurrent_first_calls_share_one_lazily_started_verifier(tmp_path, verifier):
    key = load_or_create_signing_key(tmp_path)
    tokens = [mint_id_token(key, f"user-{i}") for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        uids = list(pool.map(lambda token: verifier.verify(token).uid, tokens))
    assert uids == [f"user-{i}" for i in range(40)]
