"""`walkie cert`: make a self-signed certificate and key for a hub's TLS.

Clients pin the certificate on first use (like ssh's known_hosts), so no
certificate authority is involved: the fingerprint printed here is what a
careful user compares on the first connection.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import socket
from pathlib import Path

from walkie.argtypes import positive_int
from walkie.errors import ConfigError

HELP = "make a self-signed TLS certificate and key for a hub"
CERT_NAME = "hub.crt"
KEY_NAME = "hub.key"
KEY_MODE = 0o600
CERT_MODE = 0o644


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="directory for hub.crt and hub.key (default: here)",
    )
    parser.add_argument(
        "--name",
        default=socket.gethostname(),
        help="the hub's host name in the certificate (default: this host)",
    )
    parser.add_argument(
        "--days", type=positive_int, default=3650, help="validity in days (default %(default)s)"
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    cert_path, key_path = make_self_signed(args.out, args.name, args.days, force=args.force)
    print(f"wrote {cert_path} (mode {CERT_MODE:04o}) and {key_path} (mode {KEY_MODE:04o})")
    print(f"fingerprint sha256:{fingerprint(cert_path.read_bytes())}")
    print(f"use: walkie server --tls-cert {cert_path} --tls-key {key_path}")
    return 0


def fingerprint(certificate_pem_or_der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate, as clients show and pin it."""
    import ssl

    der = certificate_pem_or_der
    if der.lstrip().startswith(b"-----BEGIN"):
        der = ssl.PEM_cert_to_DER_cert(der.decode())
    return hashlib.sha256(der).hexdigest()


def make_self_signed(out: Path, name: str, days: int, *, force: bool = False) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = out / CERT_NAME, out / KEY_NAME
    for path in (cert_path, key_path):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; use --force to replace it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}") from None
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(key_path, key_bytes, KEY_MODE)
    # Public, as certificates are: the hub's user reads it where only the key
    # is given to the hub's group.
    _write_new(cert_path, certificate.public_bytes(serialization.Encoding.PEM), CERT_MODE)
    return cert_path, key_path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with a new file of exactly ``mode``, whatever the
    umask, never writing through an old file's permissions."""
    try:
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
