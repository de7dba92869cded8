"""Secrets on disk: the shared channel token and the hub's TLS key.

Secret files must not be open to everyone: a token or key file with the
world-read or world-write bit set is refused, with the chmod that fixes it.
Under systemd the token comes from the unit's credentials
(``LoadCredential=token:...``), read from ``$CREDENTIALS_DIRECTORY/token``.
"""

from __future__ import annotations

import errno
import os
import ssl
import stat
from pathlib import Path

from walkie.errors import ConfigError

CREDENTIAL_NAME = "token"
MAX_TOKEN_LENGTH = 256
NOT_TEXT = "not UTF-8 text"
NO_TOKEN_FILE = "(no token file)\n"
"""The token credential the unit sets when /etc/walkie/token does not exist
(``SetCredential=token:(no token file)\n``): a channel without a token. No
failed command leaves it behind, as it leaves an empty file or one newline
(``echo "$UNSET" > /etc/walkie/token``): a blank credential is refused."""


def read_file(path: Path, what: str) -> bytes:
    """The bytes in ``path``, or one line saying why ``what`` cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{what} not readable: {path}: {exc.strerror}") from None


def check_private(path: Path, what: str) -> None:
    """Refuse a secret file that is missing, a directory, or open to everyone:
    one that all may read gives the secret away, one that all may write lets
    anyone set it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"{what} not readable: {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):  # a directory's permission bits say nothing of a secret
        raise ConfigError(f"{what} not readable: {path}: {os.strerror(errno.EISDIR)}")
    open_to_everyone = [
        word for bit, word in ((stat.S_IROTH, "readable"), (stat.S_IWOTH, "writable")) if mode & bit
    ]
    if open_to_everyone:
        raise ConfigError(
            f"{what} {path} is {' and '.join(open_to_everyone)} by everyone; "
            f"run: chmod o-rwx {path}"
        )


def read_token(path: Path) -> str:
    """The token in ``path``: its first line, which must not be empty."""
    check_private(path, "token file")
    try:
        text = read_file(path, "token file").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"token file not readable: {path}: {NOT_TEXT}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isprintable():
        raise ConfigError(f"token file {path}: the first line must be a token (1-256 characters)")
    return token


def credential_token() -> str | None:
    """The token systemd passed as a credential, if it did."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / CREDENTIAL_NAME
    try:
        text = path.read_text(encoding="utf-8")
        if text == NO_TOKEN_FILE:
            return None
        if not text.strip():  # a token file left empty, say by a failed command
            raise ConfigError(
                f"token credential {path} is blank: write the token in the file the unit"
                " loads (/etc/walkie/token), or remove that file for a channel without one"
            )
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"token credential not readable: {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"token credential not readable: {path}: {NOT_TEXT}") from None
    return read_token(path)


def find_token(path: Path | None) -> str | None:
    """The token from ``path`` if given, else from systemd's credentials, else none."""
    return read_token(path) if path is not None else credential_token()


def optional_tls_context(
    cert: Path | None, key: Path | None, *, names: tuple[str, str]
) -> ssl.SSLContext | None:
    """The hub's TLS context if a certificate and key are given, None if neither is."""
    if (cert is None) != (key is None):
        raise ConfigError(f"{names[0]} and {names[1]} go together")
    if cert is None or key is None:
        return None
    return server_tls_context(cert, key)


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context for the hub from a certificate and its private key."""
    # Read here first: load_cert_chain's errors do not say which file they mean.
    read_file(cert, "TLS certificate")
    check_private(key, "TLS key file")
    read_file(key, "TLS key file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot use TLS certificate {cert} with key {key}: {exc}") from None
    return context
