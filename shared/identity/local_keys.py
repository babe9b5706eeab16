"""The local signing key: an RSA key and its self-signed X.509 certificate, created once.

Both live in one PEM file, `<data_dir>/identity/signing-key.pem` (mode 0600), so the key and
its certificate can never be out of step. Creation is atomic: each process writes a private
temporary file and hard-links it into place; a process that loses the race discards its key and
loads the winner's, so every process signs and verifies with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from shared.errors import SettingsError

log = logging.getLogger(__name__)

KEY_FILE = "signing-key.pem"
_CERT_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key with its certificate and key id (`kid`)."""

    kid: str
    private_key_pem: bytes
    certificate_pem: bytes

    @cached_property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The loaded private key (loading checks the key, ~0.1 s, so it is done once)."""
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SettingsError("the local signing key is not an RSA key")
        return key

    def certificates(self) -> dict[str, str]:
        """The `{kid: certificate PEM}` mapping served by the certificate endpoint."""
        return {self.kid: self.certificate_pem.decode("ascii")}


def identity_dir(data_dir: Path) -> Path:
    """Where local identity material lives under `data_dir`."""
    return Path(data_dir) / "identity"


def generate_signing_key(common_name: str = "farm-local securetoken") -> SigningKey:
    """Generate a fresh 2048-bit RSA key and a self-signed certificate for it (in memory)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CERT_VALIDITY)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signing_key = _signing_key(private_pem, certificate)
    signing_key.__dict__["private_key"] = key  # already in memory: skip re-loading it
    return signing_key


def load_or_create_signing_key(data_dir: Path) -> SigningKey:
    """Load the key under `data_dir`, creating it first if no process has yet."""
    directory = identity_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / KEY_FILE
    if not path.exists():
        _create_once(path, generate_signing_key())
    return load_signing_key(path)


def load_signing_key(path: Path) -> SigningKey:
    """Read a key file written by `load_or_create_signing_key`; SettingsError if unusable."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read the local signing key {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("tightening permissions of %s to 0600", path)
        os.chmod(path, 0o600)
    try:
        certificate = x509.load_pem_x509_certificate(data)
        private_key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise SettingsError(
            f"the local signing key {path} is corrupt ({exc}); delete it to create a new one"
        ) from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SettingsError(f"the local signing key {path} is not an RSA key")
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signing_key = _signing_key(private_pem, certificate)
    signing_key.__dict__["private_key"] = private_key
    return signing_key


def _signing_key(private_pem: bytes, certificate: x509.Certificate) -> SigningKey:
    der = certificate.public_bytes(serialization.Encoding.DER)
    # Google's key ids are 40 hex characters; a digest of the certificate keeps kids stable.
    kid = hashlib.sha256(der).hexdigest()[:40]
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    return SigningKey(kid=kid, private_key_pem=private_pem, certificate_pem=cert_pem)


def _create_once(path: Path, key: SigningKey) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=".signing-key-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_key_pem + key.certificate_pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, path)  # atomic and fails if another process got there first
        except FileExistsError:
            log.debug("another process created %s first; using its key", path)
        else:
            log.info("created local identity signing key %s", path)
    finally:
        os.unlink(temp_name)
