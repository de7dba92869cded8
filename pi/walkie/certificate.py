"""`walkie cert`: make a self-signed certificate and key for a hub's TLS.

Clients pin the certificate on first use (like ssh's known_hosts), so no
certificate authority is involved: the fingerprint printed here is what a
careful user compares on the first connection.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import ipaddress
import itertools
import os
import re
import socket
from pathlib import Path

from walkie.argtypes import whole_number_in
from walkie.errors import ConfigError

HELP = "make a self-signed TLS certificate and key for a hub"
CERT_NAME = "hub.crt"
KEY_NAME = "hub.key"
KEY_MODE = 0o600
CERT_MODE = 0o644
MAX_DAYS = 36500
"""A hundred years: past any hub's life, and far inside the dates a
certificate (and Python's datetime) can hold."""
MAX_NAME_LENGTH = 64
"""The longest common name X.509 allows (RFC 5280's ub-common-name)."""
HOST_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
"""One dot-separated part of a host name, in the ASCII form a certificate holds."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="directory for hub.crt and hub.key (default: here)",
    )
    parser.add_argument(
        "--name",
        type=certificate_name,
        default=socket.gethostname(),
        help="the hub's host name or IP address in the certificate (default: this host)",
    )
    parser.add_argument(
        "--days",
        type=whole_number_in(1, MAX_DAYS),
        default=3650,
        help="validity in days (default %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    cert_path, key_path = make_self_signed(args.out, args.name, args.days, force=args.force)
    print(f"wrote {cert_path} (mode {CERT_MODE:04o}) and {key_path} (mode {KEY_MODE:04o})")
    print(f"fingerprint sha256:{fingerprint(cert_path.read_bytes())}")
    print(f"use: walkie server --tls-cert {cert_path} --tls-key {key_path}")
    return 0


def certificate_name(text: str) -> str:
    """A name a certificate can hold: a host name (ASCII letters, digits, '-'
    and '_' between dots) or an IP address, of 1-64 characters."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_NAME_LENGTH} characters in a certificate, not {len(text)}"
        )
    if _ip_address(text) is None and not all(map(HOST_LABEL.fullmatch, text.split("."))):
        raise argparse.ArgumentTypeError(
            f"not a host name: {text!r} (ASCII letters, digits, '-', '_' and '.'; "
            "a non-ASCII name in its xn-- form)"
        )
    return text


def fingerprint(certificate_pem_or_der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate, as clients show and pin it."""
    import ssl

    der = certificate_pem_or_der
    if der.lstrip().startswith(b"-----BEGIN"):
        der = ssl.PEM_cert_to_DER_cert(der.decode())
    return hashlib.sha256(der).hexdigest()


def make_self_signed(out: Path, name: str, days: int, *, force: bool = False) -> tuple[Path, Path]:
    """Write a new key and its self-signed certificate for ``name`` into ``out``
    (created if missing); on failure, nothing of them is left behind."""
    cert_path, key_path = out / CERT_NAME, out / KEY_NAME
    for path in (cert_path, key_path):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; use --force to replace it")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is not a directory")
    certificate_pem, key_pem = _self_signed_pem(name, days)
    missing = list(itertools.takewhile(lambda path: not path.exists(), (out, *out.parents)))
    try:
        _make_directory(out)
        _write_new(key_path, key_pem, KEY_MODE)
        # Public, as certificates are: the hub's user reads it where only the key
        # is given to the hub's group.
        _write_new(cert_path, certificate_pem, CERT_MODE)
    except ConfigError:
        # Either file is new, or --force has already removed the old one: a
        # key without its certificate (or half a key) is of no use to keep.
        _remove_quietly([key_path, cert_path], directories=missing)
        raise
    return cert_path, key_path


def _self_signed_pem(name: str, days: int) -> tuple[bytes, bytes]:
    """A new private key and a certificate for ``name`` signed by it, both PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    address = _ip_address(name)
    alternative_name = x509.DNSName(name) if address is None else x509.IPAddress(address)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([alternative_name]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _remove_quietly(files: list[Path], *, directories: list[Path]) -> None:
    """Remove ``files``, then ``directories`` (innermost first) if they are empty."""
    for path in files:
        with contextlib.suppress(OSError):  # the error that brought us here is the one to tell
            path.unlink(missing_ok=True)
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            break  # not empty, or not ours to remove: neither are its parents


def _make_directory(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}") from None


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
