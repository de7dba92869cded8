"""Channel security at the hub: the shared token, TLS, and secret files that
must not be readable by everyone."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from support.hub import DEADLINE, TOKEN, WALKIE, HubProcess, LineClient, start_hub_process

StartHub = Callable[..., HubProcess]


def connect_raw(port: int) -> LineClient:
    client = LineClient(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))
    client.expect(lambda line: line.startswith("* welcome"))
    return client


def test_with_a_token_nothing_works_before_auth(start_hub: StartHub, token_file: Path) -> None:
    hub = start_hub("--token-file", str(token_file))
    member = connect_raw(hub.port)
    member.send(f"/auth {TOKEN}")
    member.expect(lambda line: line.startswith("* token accepted"))
    stranger = connect_raw(hub.port)
    stranger.send("let me in")
    stranger.expect_line("! this hub needs a token first: /auth TOKEN")
    stranger.send("/who")
    stranger.expect_line("! this hub needs a token first: /auth TOKEN")
    assert not [line for line in member.quiet_for(0.3) if "let me in" in line or "joined" in line]


def test_the_right_token_lets_a_netcat_user_chat(start_hub: StartHub, token_file: Path) -> None:
    hub = start_hub("--token-file", str(token_file))
    alice, bob = connect_raw(hub.port), connect_raw(hub.port)
    for client, command in ((alice, "/auth"), (bob, "/AUTH")):  # any case, as every command
        client.send(f"{command} {TOKEN}")
        client.expect(lambda line: line.startswith("* token accepted"))
    alice.send("we are in")
    assert bob.expect(lambda line: line.startswith("<")).endswith("> we are in")


def test_wrong_tokens_are_refused_slowly_then_disconnected(
    start_hub: StartHub, token_file: Path
) -> None:
    hub = start_hub("--token-file", str(token_file))
    guesser = connect_raw(hub.port)
    for guess in ("password", "123456", "letmein"):
        guesser.send(f"/auth {guess}")
    for _ in range(2):
        guesser.expect_line("! wrong token")
    guesser.expect_line("! wrong token; too many tries, bye")
    assert guesser.closed_by_peer()
    # The admin (or fail2ban) learns where the guesses came from, once for
    # the burst: one line per 10 s at most.
    host, port = guesser.sock.getsockname()[:2]
    assert hub.log is not None
    hub.stop()
    reports = [line for line in hub.log.rest() if "wrong token" in line]
    assert reports == [f"WARNING walkie.channel.server: wrong token from {host}:{port}"]


def test_a_flood_of_wrong_tokens_is_summed_up_with_where_it_came_from(
    start_hub: StartHub, token_file: Path
) -> None:
    hub = start_hub("--token-file", str(token_file))
    guessers = [connect_raw(hub.port) for _ in range(3)]
    for guesser in guessers:
        guesser.send("/hello " + json.dumps({"v": 1, "token": "guess"}))
        assert guesser.closed_by_peer()
    first, *others = ("{}:{}".format(*guesser.sock.getsockname()[:2]) for guesser in guessers)
    assert hub.log is not None
    said = hub.log.first(lambda line: "wrong tokens:" in line)  # when the 10 s are over
    assert said.endswith(f"wrong tokens: 2 more in 10 s, from {', '.join(others)}")
    assert any(line.endswith(f"wrong token from {first}") for line in hub.log.lines)


def test_auth_on_a_hub_without_a_token_says_none_is_needed(start_hub: StartHub) -> None:
    hub = start_hub()
    client = connect_raw(hub.port)
    client.send("/auth something")
    client.expect_line("! this hub needs no token")


def test_a_rich_client_presents_the_token_in_its_hello(
    start_hub: StartHub, token_file: Path
) -> None:
    hub = start_hub("--token-file", str(token_file))
    good = connect_raw(hub.port)
    good.send("/hello " + json.dumps({"v": 1, "nick": "alice", "token": TOKEN}))
    assert good.expect_json("welcome")["nick"] == "alice"
    bad = connect_raw(hub.port)
    bad.send("/hello " + json.dumps({"v": 1, "nick": "mallory", "token": "guess"}))
    assert bad.expect_json("error")["code"] == "auth"
    assert bad.closed_by_peer()


def test_systemd_credentials_supply_the_token(tmp_path: Path, token_file: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "token").write_text(TOKEN)
    (credentials / "token").chmod(0o600)
    os.environ["CREDENTIALS_DIRECTORY"] = str(credentials)
    try:
        hub = start_hub_process(tmp_path / "h.sqlite3")
    finally:
        del os.environ["CREDENTIALS_DIRECTORY"]
    try:
        client = connect_raw(hub.port)
        client.send("hello?")
        client.expect_line("! this hub needs a token first: /auth TOKEN")
    finally:
        hub.process.kill()
        hub.process.wait()


def test_the_history_files_are_readable_by_the_hubs_user_alone(
    start_hub: StartHub, tmp_path: Path
) -> None:
    history_db = tmp_path / "state" / "history.sqlite3"
    before = os.umask(0o022)  # a user's usual umask, which the hub inherits
    try:
        hub = start_hub(history_db=history_db)
    finally:
        os.umask(before)
    alice, bob = connect_raw(hub.port), connect_raw(hub.port)
    alice.send("nobody else may read this")
    bob.expect(lambda line: line.endswith("> nobody else may read this"))
    files = sorted(history_db.parent.iterdir())
    assert [path.name for path in files] == [
        "history.sqlite3",
        "history.sqlite3-wal",
        "history.sqlite3.journal",
    ]
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in files} == {
        path.name: "0o600" for path in files
    }
    # The directory it made too: no one may swap the files in it.
    assert oct(history_db.parent.stat().st_mode & 0o777) == "0o700"


def test_a_world_readable_token_file_is_refused(tmp_path: Path, token_file: Path) -> None:
    token_file.chmod(0o644)
    result = subprocess.run(
        [*WALKIE, "server", "--port", "0", "--token-file", str(token_file)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"walkie server: token file {token_file} is readable by everyone; "
        f"run: chmod o-rwx {token_file}"
    )


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path, str]:
    result = subprocess.run(
        [*WALKIE, "cert", "--out", str(tmp_path / "tls"), "--name", "hub.test"],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=True,
    )
    fingerprint = result.stdout.split("fingerprint sha256:")[1].split()[0]
    cert, key = tmp_path / "tls" / "hub.crt", tmp_path / "tls" / "hub.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert cert.stat().st_mode & 0o777 == 0o644  # public: the hub's user reads it
    return cert, key, fingerprint


def test_a_tls_hub_serves_tls_with_the_certificate_made_by_walkie_cert(
    start_hub: StartHub, certificate: tuple[Path, Path, str]
) -> None:
    cert, key, fingerprint = certificate
    hub = start_hub("--tls-cert", str(cert), "--tls-key", str(key), "--max-rate", "0")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", hub.port), timeout=DEADLINE)
    tls = context.wrap_socket(raw)
    peer = tls.getpeercert(binary_form=True)
    assert peer is not None and hashlib.sha256(peer).hexdigest() == fingerprint
    client = LineClient(tls)
    client.expect(lambda line: line.startswith("* welcome"))
    client.send("/nick alice")
    client.expect(lambda line: line.endswith("is now alice"))
    # A second station: lines fanned out between them stay intact TLS records.
    bob = LineClient(context.wrap_socket(socket.create_connection(("127.0.0.1", hub.port))))
    bob.sock.settimeout(DEADLINE)
    bob.expect(lambda line: line.startswith("* welcome"))
    bob.send("/who")
    bob.expect(lambda line: line.startswith("* 2 on the channel"))
    for number in range(50):
        client.send(f"over tls {number}")
    bob.expect_line("<alice> over tls 49")
    heard = [line for line in bob.received if line.startswith("<alice> over tls")]
    assert heard == [f"<alice> over tls {number}" for number in range(50)]


def test_a_plain_connection_to_a_tls_hub_gets_no_chat(
    start_hub: StartHub, certificate: tuple[Path, Path, str]
) -> None:
    cert, key, _ = certificate
    hub = start_hub("--tls-cert", str(cert), "--tls-key", str(key))
    plain = socket.create_connection(("127.0.0.1", hub.port), timeout=DEADLINE)
    plain.sendall(b"/who\n")
    plain.settimeout(DEADLINE)
    received = b""
    while chunk := plain.recv(4096):
        received += chunk
    assert b"on the channel" not in received and b"welcome" not in received


def test_a_connection_that_never_starts_its_tls_handshake_is_closed(
    start_hub: StartHub, certificate: tuple[Path, Path, str]
) -> None:
    # Until its handshake it is no station and counts against no limit:
    # asyncio would keep it for 60 s.
    cert, key, _ = certificate
    hub = start_hub("--tls-cert", str(cert), "--tls-key", str(key))
    silent = socket.create_connection(("127.0.0.1", hub.port), timeout=DEADLINE)
    assert silent.recv(4096) == b""  # closed by the hub after 10 s, within the DEADLINE


def test_tls_options_are_checked(tmp_path: Path, certificate: tuple[Path, Path, str]) -> None:
    cert, key, _ = certificate
    only_cert = subprocess.run(
        [*WALKIE, "server", "--port", "0", "--tls-cert", str(cert)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert only_cert.returncode == 1
    assert "--tls-cert and --tls-key go together" in only_cert.stderr
    key.chmod(0o644)
    readable = subprocess.run(
        [*WALKIE, "server", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert readable.returncode == 1 and "readable by everyone" in readable.stderr
