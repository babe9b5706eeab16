"""FirebaseIdentityVerifier specifics: configuration guards, error mapping, the application's wiring."""

import pytest

from shared.adapters.gcp.firebase_identity import AnonymousCredential, FirebaseIdentityVerifier
from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.app import Application
from shared.errors import SettingsError, TransientError
from shared.identity import LOCAL_PROJECT
from shared.identity.cert_server import CertificateServer
from shared.identity.local_keys import generate_signing_key
from shared.identity.minting import mint_id_token
from shared.ports.identity import IdentityVerifier
from shared.settings import Settings
from tests.fixtures.common import free_port


def _identity(settings: Settings) -> IdentityVerifier:
    return Application(settings).identity  # built once, as every process builds it


def test_refuses_to_start_when_the_auth_emulator_variable_is_set(monkeypatch):
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(SettingsError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        FirebaseIdentityVerifier("prod-project")


def test_gcp_configuration_with_the_auth_emulator_variable_never_builds_a_verifier(monkeypatch):
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(SettingsError, match="unsigned and expired tokens"):
        _identity(Settings(backend="gcp", gcp_project="prod-project"))


def test_refuses_to_verify_if_the_variable_appears_after_start(monkeypatch):
    key = generate_signing_key()
    with CertificateServer(key.certificates()) as server:
        verifier = FirebaseIdentityVerifier(
            LOCAL_PROJECT, certs_url=server.url, credential=AnonymousCredential()
        )
        monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
        with pytest.raises(SettingsError):
            verifier.verify(mint_id_token(key, "alice"))
        verifier.close()


def test_requires_a_project():
    with pytest.raises(SettingsError, match="FARM_FIREBASE_PROJECT"):
        FirebaseIdentityVerifier("")


def test_an_unreachable_certificate_endpoint_is_transient_not_a_bad_token():
    key = generate_signing_key()
    verifier = FirebaseIdentityVerifier(
        LOCAL_PROJECT,
        certs_url=f"http://127.0.0.1:{free_port()}/certs",
        credential=AnonymousCredential(),
        timeout_s=2,
    )
    try:
        with pytest.raises(TransientError, match="certificates"):
            verifier.verify(mint_id_token(key, "alice"))
    finally:
        verifier.close()


def test_gcp_wiring_uses_the_firebase_project_then_the_gcp_project():
    explicit = _identity(Settings(backend="gcp", gcp_project="infra", firebase_project="auth"))
    fallback = _identity(Settings(backend="gcp", gcp_project="infra"))
    assert isinstance(explicit, FirebaseIdentityVerifier) and explicit.project == "auth"
    assert isinstance(fallback, FirebaseIdentityVerifier) and fallback.project == "infra"


def test_local_wiring_verifies_tokens_from_the_data_dir(tmp_path):
    verifier = _identity(Settings(backend="local", data_dir=tmp_path))
    assert isinstance(verifier, LocalIdentityVerifier) and verifier.data_dir == tmp_path


def test_firebase_project_is_read_from_its_farm_variable():
    assert Settings.from_env({"FARM_FIREBASE_PROJECT": "auth"}).firebase_project == "auth"
