"""`walkie pi --simulate` on a real terminal (tmux): the virtual LCD and LEDs
are drawn, and keys press and release the Arduino's and the Pi's buttons."""

from __future__ import annotations

import resource
import shlex
import time
import unicodedata
from pathlib import Path

import pytest

from support.clients import Terminal
from support.hub import WALKIE, LineClient

pytestmark = pytest.mark.simulator


def test_the_terminal_view_shows_the_lcd_and_the_keys_drive_both_buttons(tmp_path: Path) -> None:
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    screen = Terminal(*WALKIE, "pi", "--simulate", "--config", str(config))
    try:
        shown = screen.wait_until(lambda text: "|>OK         1 on|" in text, "the idle LCD")
        assert "LED link: on" in shown
        port = int(shown.split("hub 127.0.0.1:")[1].split()[0])
        bob = LineClient.connect(port, "bob")
        screen.press("p")  # the Pi's GPIO button: a tap selects the next message
        screen.wait_for("Pi button: PRESSED")
        screen.press("p")
        screen.wait_for("|>Yes        2 on|")
        screen.press("a")  # the Arduino's button: held long enough to key up
        screen.wait_for("Arduino button: PRESSED")
        time.sleep(1.0)
        screen.wait_for("LED talk: on")
        screen.press("a")
        assert bob.expect(lambda line: line.startswith("<pi>")) == "<pi> Yes"
        screen.wait_for("|pi: Yes         |")
        screen.press("q")
        screen.wait_for("[exit 0]")
    finally:
        screen.close()


def test_ctrl_c_stops_the_simulation_as_q_does(tmp_path: Path) -> None:
    # The terminal sends SIGINT to its whole foreground process group; the
    # board must go on until the daemon has said goodbye to it.
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    screen = Terminal(*WALKIE, "pi", "--simulate", "--config", str(config))
    try:
        screen.wait_for("|>OK         1 on|")
        screen.press("C-c")
        shown = screen.wait_for("[exit 0]")
        assert "|offline         |" in shown
        assert "board link down: port closed" in shown
        assert "warning" not in shown and "port failed" not in shown
    finally:
        screen.close()


def process_running(config: Path) -> int:
    """The pid of the `walkie pi` process started with ``config``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(config).encode() in words and any(w.endswith(b"walkie") for w in words[1:2]):
                return int(entry.name)
    raise AssertionError(f"no walkie process with {config}")


def test_log_lines_from_timers_show_at_once_without_waiting_for_the_lcd(tmp_path: Path) -> None:
    # The history's full-disk warnings come from its commit timer, when
    # nothing else on the panel changes.
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    screen = Terminal(*WALKIE, "pi", "--simulate", "--config", str(config))
    try:
        shown = screen.wait_until(lambda text: "|>OK         1 on|" in text, "the idle LCD")
        port = int(shown.split("hub 127.0.0.1:")[1].split()[0])
        bo = LineClient.connect(port, "bo")
        bo.send("eins")
        bo.send("/history 1")  # a query commits: "eins" is in SQLite
        bo.expect(lambda line: line.endswith("<bo> eins"))
        pid = process_running(config)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (4096, hard))  # no room to grow
        bo.send("zwei")  # short: the LCD changes once, then stays
        screen.wait_for("|bo: zwei        |")
        screen.wait_for("warning: cannot store the history")
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
        screen.wait_for("warning: the history is stored in")
    finally:
        screen.close()


def simulation(tmp_path: Path) -> list[str]:
    """The command line of `walkie pi --simulate` serving a hub of its own."""
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    return [*WALKIE, "pi", "--simulate", "--config", str(config)]


def on_a_terminal(tmp_path: Path, *, width: int = 100, height: int = 24) -> Terminal:
    return Terminal(*simulation(tmp_path), width=width, height=height)


IDLE_LCD = "|>OK         1 on|"
PANEL_LINE_STARTS = (
    "walkie pi --simulate",
    "join:",
    "+-",
    "|",
    "LED link:",
    "Arduino button:",
    "keys:",
    "tap =",
    "info:",
    "warning:",
    "error:",
)


def wrapped_rows(screen: str) -> list[str]:
    """The rows that continue a panel line too long for the terminal."""
    return [row for row in screen.splitlines() if row and not row.startswith(PANEL_LINE_STARTS)]


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (CJK ideographs take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def test_arrow_and_function_keys_press_no_button(tmp_path: Path) -> None:
    # Up arrow sends ESC [ A, F1 ESC O P, F2 ESC O Q: read as keys, their
    # last letters pressed the Arduino's button, the Pi's, and quit.
    screen = on_a_terminal(tmp_path)
    try:
        screen.wait_for(IDLE_LCD)
        for key in ("Up", "Down", "Left", "Right", "Home", "End", "F1", "F2", "F3", "S-Up"):
            screen.press(key)
        screen.press("p")  # a real key, after all of them
        shown = screen.wait_for("Arduino button: released   Pi button: PRESSED")
        assert "LED talk: off" in shown
    finally:
        screen.close()


def test_a_scrolling_lcd_is_redrawn_in_place_not_into_the_scrollback(tmp_path: Path) -> None:
    # A clear screen (ESC [2J) on every redraw pushed the whole panel into the
    # scrollback of tmux and VTE terminals, three times a second.
    screen = on_a_terminal(tmp_path)
    try:
        shown = screen.wait_for(IDLE_LCD)
        port = int(shown.split("hub 127.0.0.1:")[1].split()[0])
        bob = LineClient.connect(port, "bob")
        bob.send("a line far too long for sixteen columns, so it scrolls by")
        first = screen.wait_for("bob: a")
        scrolled_before = screen.scrollback_lines()
        time.sleep(2.0)
        assert screen.screen() != first  # it did scroll, so the panel was redrawn
        assert screen.scrollback_lines() == scrolled_before
    finally:
        screen.close()


def test_the_panel_fits_a_resized_terminal_and_keeps_the_lcd_in_view(tmp_path: Path) -> None:
    screen = on_a_terminal(tmp_path, width=80, height=24)
    try:
        shown = screen.wait_for(IDLE_LCD)
        assert not wrapped_rows(shown)  # the header with the join hint fits 80 columns
        screen.resize(40, 8)  # too small for it all: the LCD, LEDs and buttons stay

        def lcd_leds_and_buttons_in_view(shown: str) -> bool:
            return (
                not wrapped_rows(shown)
                and shown.count("+----------------+") == 2
                and IDLE_LCD in shown
                and "LED link: on" in shown
                and "Arduino button: released" in shown
            )

        screen.wait_until(lcd_leds_and_buttons_in_view, "the LCD, LEDs and buttons at 40x8")
        screen.resize(80, 24)  # and back: the help is there again
        screen.wait_for("keys: a = Arduino PTT")
    finally:
        screen.close()


def test_wide_characters_on_the_lcd_keep_its_box_square(tmp_path: Path) -> None:
    # 千, 万 and 円 are one cell on the LCD (its ROM has them) but two on a terminal.
    screen = on_a_terminal(tmp_path)
    try:
        shown = screen.wait_for(IDLE_LCD)
        port = int(shown.split("hub 127.0.0.1:")[1].split()[0])
        LineClient.connect(port, "bob").send("5千円 1万")
        shown = screen.wait_for("bob: 5千円 1万")
        box = [row.rstrip() for row in shown.splitlines() if row.startswith(("+-", "|"))]
        assert len(box) == 4
        assert {cells(row) for row in box} == {cells("+----------------+") + 3}, box
    finally:
        screen.close()


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_ctrl_z_gives_the_shell_its_terminal_and_fg_takes_it_back(
    tmp_path: Path, shell: str
) -> None:
    # bash resets the terminal when a job stops, dash does not: with dash the
    # panel's own settings (no echo) stayed; with bash, after fg, keys waited
    # for Enter and were echoed onto the panel.
    screen = Terminal(shell, "-i", height=40)
    try:
        screen.type(shlex.join(simulation(tmp_path)), enter=True)
        screen.wait_for(IDLE_LCD)
        screen.press("C-z")
        screen.wait_for("Stopped")
        screen.type("echo typed''here", enter=True)
        screen.wait_for("echo typed''here")  # echoed as typed: the shell's terminal again
        screen.wait_for("typedhere")
        screen.type("fg", enter=True)
        screen.wait_until(lambda shown: "Stopped" not in shown, "the panel redrawn")
        screen.press("p")  # a key at once, without Enter
        shown = screen.wait_for("Pi button: PRESSED")
        assert IDLE_LCD in shown
    finally:
        screen.close()


def test_ctrl_z_where_no_shell_could_continue_it_is_ignored(tmp_path: Path) -> None:
    # Started straight in a terminal (`tmux new-session 'walkie pi
    # --simulate'`, `ssh -t`): stopped, nothing would ever continue it, and
    # its hub would hang with it.
    screen = on_a_terminal(tmp_path)
    try:
        screen.wait_for(IDLE_LCD)
        screen.press("C-z")
        screen.press("p")
        screen.wait_for("Pi button: PRESSED")
    finally:
        screen.close()


def test_a_job_stopped_with_ctrl_z_ends_on_kill_and_leaves_the_terminal_usable(
    tmp_path: Path,
) -> None:
    # `kill %1` continues the stopped job in the background: taking the
    # terminal from there stopped it again, for good. At its end the terminal
    # must block as the shell expects (uvloop had made it non-blocking).
    screen = Terminal("bash", "-i", height=40)
    try:
        screen.type(shlex.join(simulation(tmp_path)), enter=True)
        screen.wait_for(IDLE_LCD)
        screen.press("C-z")
        screen.wait_for("Stopped")
        screen.type('kill %1; sleep 3; echo "jobs left: $(jobs | wc -l)"', enter=True)
        screen.wait_for("jobs left: 0")
        screen.type(shlex.join(simulation(tmp_path)), enter=True)
        screen.wait_until(lambda shown: shown.count(IDLE_LCD) == 1, "the panel again")
        screen.type("q")
        screen.wait_for("offline")
        screen.type('read -t 10 answer; echo "read says $answer, $?"', enter=True)
        screen.type("yes", enter=True)
        screen.wait_for("read says yes, 0")
    finally:
        screen.close()


def test_a_press_and_release_in_one_read_is_a_tap(tmp_path: Path) -> None:
    # tmux send-keys aa, or a fast double press: both keys in one read.
    screen = on_a_terminal(tmp_path)
    try:
        screen.wait_for(IDLE_LCD)
        screen.type("aa")  # the Arduino's button: a tap selects the next message
        screen.wait_for("|>Yes        1 on|")
        screen.type("aaaa")  # tapped twice, as fast as keys come
        screen.wait_for("|>On my way  1 on|")
        screen.type("aapp")  # then the Pi's button: both taps, in order
        screen.wait_for("|>OK         1 on|")
    finally:
        screen.close()
