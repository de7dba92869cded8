"""The whole product, end to end: laptop clients (real `walkie client`
subprocesses) <-> hub <-> Pi station (`walkie pi --simulate`) <-> the real
firmware in the simulated Uno, its LCD read back from the simulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from support.hub import WALKIE, HubProcess, LineClient
from support.lines import DEADLINE
from support.station import SimulatedStation
from walkie.station.daemon import NOTICE_SHOWN_S

pytestmark = pytest.mark.simulator

HOLD = 1.2
"""Seconds to hold PTT: twice the default hold time, so it is a hold, not a tap."""


@pytest.fixture
def stations(tmp_path: Path) -> Iterator[Callable[..., SimulatedStation]]:
    started: list[SimulatedStation] = []

    def start(
        *args: str,
        history: str = "station.sqlite3",
        config_lines: str = "",
        stdin: int = subprocess.PIPE,
    ) -> SimulatedStation:
        """``walkie pi --simulate ARGS``; ``config_lines`` go into its config
        file after the [server] table's history_db (more [server] keys, or
        other tables)."""
        config = tmp_path / f"{len(started)}.toml"
        config.write_text(f'[server]\nhistory_db = "{tmp_path / history}"\n{config_lines}')
        station = SimulatedStation("--config", str(config), *args, stdin=stdin)
        started.append(station)
        return station

    yield start
    for station in started:
        station.stop()


def hold_button(station: SimulatedStation, button: str = "arduino") -> None:
    station.command(f"press {button}")
    time.sleep(HOLD)
    station.command(f"release {button}")


def test_a_line_typed_on_a_laptop_shows_on_the_lcd(stations, pipe_client) -> None:
    pi = stations("--port", "0")
    port = pi.wait_serving()
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    laptop = pipe_client(f"127.0.0.1:{port}", "--nick", "alice")
    laptop.send("hello pi")
    pi.wait_lcd(lambda rows: rows[0].startswith("alice: hello pi"))
    laptop.send("grüße, café")  # ü is in the LCD's ROM; ß and é are transliterated
    pi.wait_lcd(lambda rows: rows[0].startswith("alice: grüsse, c"))


def test_the_station_says_how_its_hub_listens_as_walkie_server_does(stations, tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("sesame\n")
    token.chmod(0o600)
    pi = stations("--port", "0", config_lines=f'token_file = "{token}"\n')
    pi.wait_serving()
    banner = pi.log.first(lambda line: "listening on" in line)
    assert f"(plain TCP, token required, history {tmp_path / 'station.sqlite3'})" in banner


def test_a_station_stopped_as_soon_as_its_hub_listens_stops(stations) -> None:
    # systemctl stop right after start: the TERM lands while the station's
    # own connection to its hub is being made (uvloop lost that cancel).
    pi = stations("--port", "0")
    pi.wait_serving()
    pi.process.terminate()
    assert pi.process.wait(DEADLINE) == 0


def test_a_simulation_whose_board_simulator_dies_ends_with_the_reason(stations) -> None:
    # Retrying its pty would open whatever terminal gets that name next.
    pi = stations("--port", "0")
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    # Started from a thread: each thread has its own list of children.
    tasks = Path(f"/proc/{pi.process.pid}/task").iterdir()
    children = [child for task in tasks for child in (task / "children").read_text().split()]
    (simulator,) = (int(child) for child in children if "walkie-sim" in _command_of(child))
    os.kill(simulator, signal.SIGKILL)
    assert pi.process.wait(DEADLINE) == 1
    ended = "walkie pi: the board simulator ended unexpectedly (killed by SIGKILL)"
    assert pi.log.rest()[-1] == ended


def _command_of(pid: str) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_a_simulated_station_with_nothing_on_its_stdin_runs_as_usual(stations) -> None:
    # /dev/null, as under nohup or a service manager: epoll cannot watch it
    pi = stations("--port", "0", stdin=subprocess.DEVNULL)
    port = pi.wait_serving()
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    bob = LineClient.connect(port, nick="bob")
    bob.send("anyone there?")
    pi.wait_lcd(lambda rows: rows[0].startswith("bob: anyone the"))
    assert pi.stop() == 0


def test_the_limits_in_the_config_file_reach_the_pis_hub(stations) -> None:
    pi = stations("--port", "0", config_lines="max_stations = 2\nmax_queued = 1\n")
    port = pi.wait_serving()
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    alice = LineClient.connect(port, nick="alice")  # with the Pi, the hub is now full
    late = LineClient(socket.create_connection(("127.0.0.1", port)))
    late.expect_line("! the hub is full, try again later")
    assert late.closed_by_peer()
    # One line may wait for the floor: a second one is refused, not lost silently.
    pi.command("press arduino")
    alice.expect_line("* pi is talking")
    alice.send("first")
    alice.send("second")
    alice.expect(lambda line: line.startswith("! line refused: 1 lines already wait"))
    pi.command("release arduino")
    pi.wait_lcd(lambda rows: rows[0].startswith("alice: first"))


def test_holding_the_arduino_button_sends_the_quick_message(stations, pipe_client) -> None:
    pi = stations("--port", "0")
    port = pi.wait_serving()
    laptop = pipe_client(f"127.0.0.1:{port}", "--nick", "alice")
    pi.wait_lcd(lambda rows: rows[1].endswith("2 on"))
    pi.command("press arduino")  # a tap: the next quick message
    time.sleep(0.2)
    pi.command("release arduino")
    pi.wait_lcd(lambda rows: rows[1].startswith(">Yes"))
    hold_button(pi)
    laptop.stdout.wait_for("<pi> Yes")
    pi.wait_lcd(lambda rows: rows[0].startswith("pi: Yes"))


def test_the_pi_gpio_button_behaves_like_the_arduinos(stations, pipe_client) -> None:
    pi = stations("--port", "0")
    port = pi.wait_serving()
    laptop = pipe_client(f"127.0.0.1:{port}", "--nick", "alice")
    pi.wait_lcd(lambda rows: rows[1].endswith("2 on"))
    hold_button(pi, "pi")
    laptop.stdout.wait_for("<pi> OK")
    pi.wait_output("LED link=on talk=on")


def station_while_bob_talks(stations) -> tuple[SimulatedStation, LineClient]:
    """A simulated station on its own hub, where bob holds the floor."""
    pi = stations("--port", "0")
    bob = LineClient.connect(pi.wait_serving(), "bob")
    bob.send("/talk")
    pi.wait_lcd(lambda rows: rows[1].startswith("RX bob"))
    return pi, bob


def test_a_press_while_another_station_talks_shows_busy(stations) -> None:
    pi, bob = station_while_bob_talks(stations)
    hold_button(pi)
    pi.wait_lcd(lambda rows: rows[1].startswith("BUSY bob"))
    assert not [line for line in bob.quiet_for(0.5) if line.startswith("<pi>")]
    # Released, BUSY gives way to who is talking a moment later.
    pi.wait_lcd_after(
        lambda rows: rows[1].startswith("BUSY bob"), lambda rows: rows[1].startswith("RX bob")
    )


def test_the_second_button_joining_a_refused_press_keeps_busy(stations) -> None:
    pi, _ = station_while_bob_talks(stations)

    def busy(rows: Sequence[str]) -> bool:
        return rows[1].startswith("BUSY bob")

    pi.command("press arduino")
    pi.wait_lcd(busy)
    pi.command("press pi")  # both held now: still the one refused press
    with pytest.raises(AssertionError):  # so BUSY stays while they are held
        pi.wait_lcd_after(busy, lambda rows: not busy(rows), timeout=NOTICE_SHOWN_S + 1)


def test_a_tap_while_another_station_talks_shows_the_new_quick_message_a_moment(
    stations,
) -> None:
    pi, _ = station_while_bob_talks(stations)
    pi.command("press arduino")
    time.sleep(0.1)  # a tap: shorter than the 0.6 s hold
    pi.command("release arduino")
    pi.wait_lcd_after(
        lambda rows: rows[1].startswith(">Yes"), lambda rows: rows[1].startswith("RX bob")
    )


def test_two_pi_stations_talk_to_each_other(stations) -> None:
    host = stations("--port", "0", "--nick", "base")
    port = host.wait_serving()
    remote = stations("--hub", f"127.0.0.1:{port}", "--nick", "field")
    host.wait_lcd(lambda rows: rows[1].endswith("2 on"))
    hold_button(remote)
    host.wait_lcd(lambda rows: rows[0].startswith("field: OK"))
    hold_button(host)
    remote.wait_lcd(lambda rows: rows[0].startswith("base: OK"))


def test_the_station_reconnects_to_a_restarted_hub_and_loses_nothing(
    stations, start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    db = tmp_path / "hub.sqlite3"
    hub = start_hub(history_db=db)
    pi = stations("--hub", f"127.0.0.1:{hub.port}")
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    hub.process.kill()
    hub.process.wait()
    pi.wait_lcd(lambda rows: "reconnecting" in rows[1] or "connecting" in rows[1])
    hub = start_hub(history_db=db, port=hub.port)
    alice = LineClient.connect(hub.port, "alice")
    alice.send("missed while you were away")
    pi.wait_lcd(lambda rows: rows[0].startswith("alice: missed"))
    pi.wait_lcd(lambda rows: rows[1].endswith("2 on"))


def test_a_station_the_hub_refuses_for_good_fails_with_the_reason(
    stations, start_hub: Callable[..., HubProcess], token_file: Path
) -> None:
    # No token in the station's config: no retry can help, so the service
    # fails (systemd shows the line) instead of running on as if stopped.
    hub = start_hub("--token-file", str(token_file))
    pi = stations("--hub", f"127.0.0.1:{hub.port}")
    assert pi.process.wait(DEADLINE) == 1
    assert pi.log.rest()[-1] == f"walkie pi: 127.0.0.1:{hub.port}: wrong or missing token"


def test_a_station_logs_the_hub_certificate_it_pins_on_first_use(
    stations, start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    # The admin compares it with the fingerprint `walkie cert` printed.
    made = subprocess.run(
        [*WALKIE, "cert", "--out", str(tmp_path / "tls")],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=True,
    )
    fingerprint = made.stdout.split("fingerprint sha256:")[1].split()[0]
    tls = tmp_path / "tls"
    hub = start_hub("--tls-cert", str(tls / "hub.crt"), "--tls-key", str(tls / "hub.key"))
    client = f'[client]\ntls = true\nknown_hubs = "{tmp_path / "known_hubs"}"\n'
    pi = stations("--hub", f"127.0.0.1:{hub.port}", config_lines=client)
    pinned = pi.log.first(lambda line: "on first use" in line)
    assert pinned.endswith(f"trusting hub 127.0.0.1:{hub.port} on first use: sha256:{fingerprint}")


def test_a_station_does_not_talk_plain_text_to_a_hub_pinned_as_a_tls_hub(
    stations, start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    # client.tls forgotten: its token and lines would go in the clear.
    hub = start_hub()
    known = tmp_path / "known_hubs"
    known.write_text(f"127.0.0.1:{hub.port} sha256:{'0' * 64}\n")
    client = f'[client]\nknown_hubs = "{known}"\n'
    pi = stations("--hub", f"127.0.0.1:{hub.port}", config_lines=client)
    assert pi.process.wait(DEADLINE) == 1
    assert pi.log.rest()[-1].startswith(f"walkie pi: hub 127.0.0.1:{hub.port} speaks TLS")


def test_a_20x4_station_shows_three_messages_and_its_status_row(stations) -> None:
    pi = stations("--port", "0", "--lcd", "20x4")  # the firmware built for 20x4
    port = pi.wait_serving()
    pi.wait_lcd(lambda rows: len(rows) == 4 and rows[3].endswith("1 on"))
    alice = LineClient.connect(port, "alice")
    for word in ("eins", "zwei", "drei"):
        alice.send(word)
    pi.wait_lcd(  # the newest first
        lambda rows: (
            [row.rstrip() for row in rows]
            == ["alice: drei", "alice: zwei", "alice: eins", ">OK             2 on"]
        )
    )


def test_a_station_whose_nick_is_taken_says_which_it_got(
    stations, start_hub: Callable[..., HubProcess]
) -> None:
    hub = start_hub()
    laptop = LineClient.connect(hub.port, "pi")  # took the name first
    pi = stations("--hub", f"127.0.0.1:{hub.port}")
    line = pi.log.first(lambda line: "is taken" in line)
    assert line.endswith("nick pi is taken: this station is pi2")
    laptop.close()


def test_a_quick_message_the_hub_refuses_says_so_on_the_lcd_and_in_the_log(stations) -> None:
    too_long = "far longer than sixteen"
    pi = stations(
        "--port", "0", config_lines=f'max_line = 16\n[ptt]\nquick_messages = ["{too_long}"]\n'
    )
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    hold_button(pi)
    pi.wait_lcd(lambda rows: rows[0].startswith("not sent: far"))
    line = pi.log.first(lambda line: "not sent" in line)
    assert line.endswith(f"not sent: '{too_long}' (line too long (23 bytes; the hub takes 16))")


def test_a_station_refused_in_mid_session_leaves_offline_on_its_lcd(
    stations, start_hub: Callable[..., HubProcess], token_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "hub.sqlite3"
    hub = start_hub(history_db=db)
    pi = stations("--hub", f"127.0.0.1:{hub.port}")
    pi.wait_lcd(lambda rows: rows[1].endswith("1 on"))
    hub.stop()
    start_hub("--token-file", str(token_file), history_db=db, port=hub.port)
    assert pi.process.wait(DEADLINE) == 1
    lcd = [line for line in pi.output.rest() if line.startswith("LCD |")]
    assert lcd[-1].split("|")[2].startswith("offline"), lcd[-3:]
