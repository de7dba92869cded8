"""`walkie cert` as a user runs it: what it writes, and how it refuses what it
cannot do (one line, an exit code, and nothing left behind)."""

from __future__ import annotations

import ipaddress
import resource
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from support.hub import DEADLINE, WALKIE

ROOM_FOR_THE_KEY_ONLY = 300
"""Bytes a file may hold on a disk that is all but full: the key's PEM (241
bytes) is written, the certificate's (about 500) is not."""


def walkie_cert(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        # A full disk for this process alone: a write past the limit fails
        # with EFBIG (Python ignores the SIGXFSZ that comes with it).
        assert file_size_limit is not None
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))

    return subprocess.run(
        [*WALKIE, "cert", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        preexec_fn=limit_file_size if file_size_limit is not None else None,
    )


@pytest.mark.parametrize(
    ("option", "value", "told"),
    [
        ("--name", "", "argument --name: must not be empty"),
        ("--name", "h" * 70, "argument --name: at most 64 characters in a certificate, not 70"),
        ("--name", "é x", "argument --name: not a host name: 'é x'"),
        ("--name", "hub..test", "argument --name: not a host name: 'hub..test'"),
        ("--days", "99999999", "argument --days: must be from 1 to 36500: 99999999"),
        ("--days", "0", "argument --days: must be from 1 to 36500: 0"),
    ],
)
def test_a_name_or_validity_no_certificate_can_hold_is_refused_before_anything_is_made(
    tmp_path: Path, option: str, value: str, told: str
) -> None:
    out = tmp_path / "tls"
    result = walkie_cert("--out", str(out), option, value)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"walkie cert: error: {told}")
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_disk_full_while_writing_leaves_neither_files_nor_directories_behind(
    tmp_path: Path,
) -> None:
    out = tmp_path / "etc" / "walkie"
    result = walkie_cert(
        "--out", str(out), "--name", "hub.test", file_size_limit=ROOM_FOR_THE_KEY_ONLY
    )
    assert result.returncode == 1
    assert result.stderr == f"walkie cert: cannot write {out / 'hub.crt'}: File too large\n"
    assert list(tmp_path.iterdir()) == []


def test_an_ip_address_as_the_name_is_certified_as_an_ip_address(tmp_path: Path) -> None:
    result = walkie_cert("--out", str(tmp_path), "--name", "192.0.2.7")
    assert result.returncode == 0, result.stderr
    certificate = x509.load_pem_x509_certificate((tmp_path / "hub.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.7")]


def test_an_existing_file_as_the_output_directory_is_refused_as_not_a_directory(
    tmp_path: Path,
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    result = walkie_cert("--out", str(afile), "--name", "hub.test")
    assert (result.returncode, result.stderr) == (1, f"walkie cert: {afile} is not a directory\n")
    assert afile.read_text() == "not a directory"
