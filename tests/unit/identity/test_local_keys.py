import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from shared.errors import SettingsError
from shared.identity.local_keys import (
    KEY_FILE,
    generate_signing_key,
    identity_dir,
    load_or_create_signing_key,
)

REPO = Path(__file__).resolve().parents[3]


def test_creates_the_key_once_with_owner_only_permissions(tmp_path):
    key = load_or_create_signing_key(tmp_path)
    path = identity_dir(tmp_path) / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signing_key(tmp_path) == key
    assert [p.name for p in identity_dir(tmp_path).iterdir()] == [KEY_FILE]  # no temp files left


def test_the_certificate_matches_the_private_key_and_the_kid_is_stable(tmp_path):
    key = load_or_create_signing_key(tmp_path)
    cert = x509.load_pem_x509_certificate(key.certificate_pem)
    private = load_pem_private_key(key.private_key_pem, password=None)
    assert cert.public_key().public_numbers() == private.public_key().public_numbers()
    assert len(key.kid) == 40
    assert key.certificates() == {key.kid: key.certificate_pem.decode()}


def test_fresh_keys_get_distinct_kids():
    assert generate_signing_key().kid != generate_signing_key().kid


def test_processes_racing_to_create_the_key_all_end_up_with_the_same_one(tmp_path):
    script = (
        "import sys; from shared.identity.local_keys import load_or_create_signing_key as f; "
        "print(f(sys.argv[1]).kid)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    kids = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert kids == {load_or_create_signing_key(tmp_path).kid}


def test_tightens_a_key_file_that_others_can_read(tmp_path):
    load_or_create_signing_key(tmp_path)
    path = identity_dir(tmp_path) / KEY_FILE
    os.chmod(path, 0o644)
    load_or_create_signing_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_corrupt_key_file_is_a_settings_error_naming_the_file(tmp_path):
    identity_dir(tmp_path).mkdir(parents=True)
    (identity_dir(tmp_path) / KEY_FILE).write_text("not a key")
    with pytest.raises(SettingsError, match=KEY_FILE):
        load_or_create_signing_key(tmp_path)
