"""`walkie client` against a hub with a token and TLS: the token in the hello,
the hub's certificate pinned on first use, a changed certificate refused."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.clients import PipeClient, Probe
from support.hub import TOKEN, WALKIE, HubProcess
from support.lines import DEADLINE


def make_certificate(directory: Path) -> tuple[Path, Path]:
    subprocess.run(
        [*WALKIE, "cert", "--out", str(directory), "--name", "hub.test"],
        check=True,
        capture_output=True,
        timeout=DEADLINE,
    )
    return directory / "hub.crt", directory / "hub.key"


@pytest.fixture
def tls_hub(tmp_path: Path) -> Iterator[Callable[..., HubProcess]]:
    hubs: list[HubProcess] = []

    def start(*extra: str, port: int = 0) -> HubProcess:
        hub = HubProcess(tmp_path / "history.sqlite3", "--max-rate", "0", *extra, port=port)
        hubs.append(hub.start())
        return hub

    yield start
    for hub in hubs:
        hub.stop()


def test_a_client_with_the_token_chats_and_one_without_is_refused(
    tls_hub: Callable[..., HubProcess], pipe_client: Callable[..., PipeClient], token_file: Path
) -> None:
    hub = tls_hub("--token-file", str(token_file))
    listener = Probe(hub.port)
    listener.say(f"/auth {TOKEN}")
    listener.wait_for("* token accepted…")
    speaker = pipe_client(hub.address, "--nick", "alice", "--token-file", str(token_file))
    speaker.send("with the right token")
    assert speaker.finish() == 0
    listener.wait_for("<alice> with the right token")
    stranger = pipe_client(hub.address, "--nick", "mallory")
    stranger.send("let me in")
    assert stranger.finish() == 1
    errors = stranger.stderr.rest()
    told = [line for line in errors if "token" in line]  # once, as the line it ends with
    assert told == [f"walkie client: {hub.address}: wrong or missing token"], errors
    assert not any("Traceback" in line for line in errors)


def test_the_hubs_certificate_is_pinned_on_first_use_and_a_changed_one_refused(
    tls_hub: Callable[..., HubProcess], pipe_client: Callable[..., PipeClient], tmp_path: Path
) -> None:
    known = tmp_path / "known_hubs"
    cert, key = make_certificate(tmp_path / "first")
    hub = tls_hub("--tls-cert", str(cert), "--tls-key", str(key))
    first = pipe_client(hub.address, "--tls", "--known-hubs", str(known), "--nick", "alice")
    first.send("over TLS")
    assert first.finish() == 0
    assert any(line.startswith("* trusting hub") for line in first.stderr.rest())
    assert known.stat().st_mode & 0o777 == 0o600
    assert known.read_text().startswith(f"{hub.address} sha256:")

    again = pipe_client(hub.address, "--tls", "--known-hubs", str(known), "--nick", "alice")
    again.send("still the same hub")
    assert again.finish() == 0
    assert not any("trusting" in line for line in again.stderr.rest())

    hub.stop()
    other_cert, other_key = make_certificate(tmp_path / "second")
    second = tls_hub("--tls-cert", str(other_cert), "--tls-key", str(other_key), port=hub.port)
    impostor = pipe_client(hub.address, "--tls", "--known-hubs", str(known), "--nick", "alice")
    impostor.send("should not go out")
    assert impostor.finish() == 1
    errors = impostor.stderr.rest()
    assert any("certificate of hub" in line and "has changed" in line for line in errors), errors
    second.stop()
    assert second.log is not None
    assert not [line for line in second.log.rest() if "asyncio" in line]  # a clean hub log


def test_a_client_and_a_hub_that_disagree_about_tls_say_so(
    tls_hub: Callable[..., HubProcess], start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    tls = tls_hub("--tls-cert", str(cert), "--tls-key", str(key))
    hub = start_hub(history_db=tmp_path / "plain.sqlite3")
    listener = Probe(hub.port)
    listener.say("/who")
    known = str(tmp_path / "known_hubs")
    without = run_client(tls.address)  # plain text to a hub waiting for a TLS handshake
    assert without.returncode == 1
    assert "without a word (does it want TLS?)" in without.stderr, without.stderr
    for _ in range(5):  # each handshake's random bytes, read as lines, could pass for a message
        with_tls = run_client(hub.address, "--tls", "--known-hubs", known)
        assert with_tls.returncode == 1
        assert "the hub does not speak TLS" in with_tls.stderr, with_tls.stderr
    assert "Traceback" not in without.stderr + with_tls.stderr
    listener.say("/history 50")
    listener.wait_for("* end of history…")
    assert not [line for line in listener.reader.lines if "<guest" in line]


def test_a_known_hubs_path_that_is_not_a_file_is_one_line(
    tls_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    hub = tls_hub("--tls-cert", str(cert), "--tls-key", str(key))
    result = run_client(hub.address, "--tls", "--known-hubs", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"walkie client: cannot read the known hubs file {tmp_path}: Is a directory"
    )


def test_a_damaged_line_for_the_hub_in_known_hubs_is_refused_not_skipped(
    tls_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    # Skipped, the hub would be trusted on first use again without a word.
    cert, key = make_certificate(tmp_path)
    hub = tls_hub("--tls-cert", str(cert), "--tls-key", str(key))
    known = tmp_path / "known_hubs"
    known.write_text(f"other:1 sha256:{'0' * 64}\n{hub.address} SHA256:\n")
    result = run_client(hub.address, "--tls", "--known-hubs", str(known))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"walkie client: {known} line 2: not ADDRESS sha256:FINGERPRINT;"
        f" mend it or remove it to trust hub {hub.address} anew"
    )


def test_a_hub_pinned_as_a_tls_hub_is_not_spoken_to_in_plain_text(
    start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    # Forgetting --tls would send the token and every line in the clear.
    hub = start_hub(history_db=tmp_path / "h.sqlite3")
    known = tmp_path / "known_hubs"
    for pin in (
        f"localhost:{hub.port} sha256:{'0' * 64}",  # host names know no case
        f"localhost:{hub.port} sha256:damaged",  # a damaged pin still says TLS
    ):
        known.write_text(pin + "\n")
        result = run_client(f"LOCALHOST:{hub.port}", "--known-hubs", str(known))
        assert result.returncode == 1
        assert result.stderr.splitlines()[-1] == (
            f"walkie client: hub LOCALHOST:{hub.port} speaks TLS (its certificate is pinned"
            f" in {known}): use TLS (--tls, client.tls), or remove its line there to talk to"
            " it in plain text"
        )
    assert run_client(hub.address, "--known-hubs", str(tmp_path / "none")).returncode == 0


def test_a_pin_is_found_after_a_byte_order_mark_and_added_on_a_line_of_its_own(
    tls_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    hub = tls_hub("--tls-cert", str(cert), "--tls-key", str(key))
    known = tmp_path / "known_hubs"
    known.write_text(f"other:1 sha256:{'0' * 64}")  # edited by hand: no newline at its end
    first = run_client(hub.address, "--tls", "--known-hubs", str(known))
    assert first.returncode == 0 and "trusting hub" in first.stderr
    lines = known.read_text().splitlines()
    assert lines[0] == f"other:1 sha256:{'0' * 64}"
    assert lines[1].startswith(f"{hub.address} sha256:")
    known.write_text("\ufeff" + lines[1] + "\n")  # saved by an editor that marks UTF-8
    again = run_client(hub.address, "--tls", "--known-hubs", str(known))
    assert again.returncode == 0 and "trusting hub" not in again.stderr


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WALKIE, "client", *args, "--connect-timeout", "5"],
        input="hello\n",
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


def test_a_world_readable_token_file_is_refused_by_the_client(
    hub: HubProcess, token_file: Path
) -> None:
    token_file.chmod(0o644)
    result = subprocess.run(
        [*WALKIE, "client", hub.address, "--token-file", str(token_file)],
        input="",
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert result.returncode == 1
    assert "readable by everyone" in result.stderr
