"""The token and TLS files a hub is given, as `walkie server` tells what is
wrong with them: one line naming the file and the plain reason, exit 1, before
the hub listens."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.hub import DEADLINE, WALKIE
from walkie.secrets import NO_TOKEN_FILE, credential_token


def walkie_server(
    tmp_path: Path, *args: str, credentials: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`walkie server ARGS`, given systemd's ``credentials`` directory if any."""
    environment = {
        name: value for name, value in os.environ.items() if name != "CREDENTIALS_DIRECTORY"
    }
    if credentials is not None:
        environment["CREDENTIALS_DIRECTORY"] = str(credentials)
    return subprocess.run(
        [*WALKIE, "server", "--port", "0", "--history-db", str(tmp_path / "h.sqlite3"), *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=environment,
    )


@pytest.fixture
def hub_key(tmp_path: Path) -> Path:
    """The private key of a certificate made by `walkie cert` (mode 0600)."""
    subprocess.run(
        [*WALKIE, "cert", "--out", str(tmp_path / "tls"), "--name", "hub.test"],
        capture_output=True,
        timeout=DEADLINE,
        check=True,
    )
    return tmp_path / "tls" / "hub.key"


def test_a_missing_certificate_is_named(tmp_path: Path, hub_key: Path) -> None:
    missing = tmp_path / "nope.crt"
    result = walkie_server(tmp_path, "--tls-cert", str(missing), "--tls-key", str(hub_key))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: TLS certificate not found: {missing}\n",
    )


def test_a_directory_given_as_the_certificate_is_told_in_plain_words(
    tmp_path: Path, hub_key: Path
) -> None:
    result = walkie_server(tmp_path, "--tls-cert", str(tmp_path), "--tls-key", str(hub_key))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: TLS certificate not readable: {tmp_path}: Is a directory\n",
    )


@pytest.mark.parametrize(
    ("mode", "open_to"),
    [(0o602, "writable"), (0o606, "readable and writable"), (0o604, "readable")],
)
def test_a_token_file_everyone_may_write_is_refused_as_one_everyone_may_read(
    tmp_path: Path, token_file: Path, mode: int, open_to: str
) -> None:
    # Whoever may write the token may set it, and so join the channel.
    token_file.chmod(mode)
    result = walkie_server(tmp_path, "--token-file", str(token_file))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: token file {token_file} is {open_to} by everyone; "
        f"run: chmod o-rwx {token_file}\n",
    )


def test_a_tls_key_everyone_may_write_is_refused(tmp_path: Path, hub_key: Path) -> None:
    hub_key.chmod(0o602)
    certificate = hub_key.with_name("hub.crt")
    result = walkie_server(tmp_path, "--tls-cert", str(certificate), "--tls-key", str(hub_key))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: TLS key file {hub_key} is writable by everyone; "
        f"run: chmod o-rwx {hub_key}\n",
    )


@pytest.mark.parametrize("mode", [0o755, 0o700])
def test_a_directory_given_as_the_token_file_is_told_as_one(tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "tokdir"
    directory.mkdir()
    directory.chmod(mode)
    result = walkie_server(tmp_path, "--token-file", str(directory))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: token file not readable: {directory}: Is a directory\n",
    )


def test_a_token_file_that_is_not_text_is_told_in_plain_words(
    tmp_path: Path, token_file: Path
) -> None:
    token_file.write_bytes(b"\xff\xfe not utf-8\n")
    result = walkie_server(tmp_path, "--token-file", str(token_file))
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: token file not readable: {token_file}: not UTF-8 text\n",
    )


def test_a_token_credential_that_cannot_be_read_is_told_in_plain_words(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    (credentials / "token").mkdir(parents=True)
    result = walkie_server(tmp_path, credentials=credentials)
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: token credential not readable: {credentials / 'token'}: Is a directory\n",
    )
    (credentials / "token").rmdir()
    (credentials / "token").write_bytes(b"\xff\xfe\n")
    result = walkie_server(tmp_path, credentials=credentials)
    assert (result.returncode, result.stderr) == (
        1,
        f"walkie server: token credential not readable: {credentials / 'token'}: not UTF-8 text\n",
    )


def test_an_empty_token_credential_is_refused_but_the_units_fallback_means_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python3 -c ... > /etc/walkie/token` that failed leaves an empty file:
    # that must not quietly give an open channel.
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    for blank in ("", "\n", "\r\n"):  # `echo "$UNSET" > /etc/walkie/token` leaves "\n"
        (credentials / "token").write_text(blank)
        result = walkie_server(tmp_path, credentials=credentials)
        assert result.returncode == 1
        assert result.stderr.startswith(
            f"walkie server: token credential {credentials / 'token'} is blank:"
        )
    (credentials / "token").write_text(NO_TOKEN_FILE)  # the unit's own, no token file
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert credential_token() is None
