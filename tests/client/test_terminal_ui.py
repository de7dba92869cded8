"""The interactive `walkie client` on a real terminal (tmux), as a user sees it."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.clients import Terminal
from support.hub import TOKEN, WALKIE, HubProcess
from walkie.channel.history import History
from walkie.client.ui import CHAT_ROWS_KEPT, COMMANDS

if TYPE_CHECKING:
    from support.clients import Probe
    from support.hub import HubProcess as Hub


def stored_lines(port: int) -> str:
    """The hub's history, as a netcat user asking /history sees it."""
    with socket.create_connection(("127.0.0.1", port)) as watcher:
        watcher.sendall(b"/history 50\n/quit\n")
        return watcher.makefile("r", encoding="utf-8").read()


def test_received_lines_and_the_status_line_show_on_the_terminal(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    terminal.status_line(lambda row: "alice@127.0.0.1" in row and "| floor free | 2 on: " in row)
    probe.say("hello \x1b]0;pwned\x07alice")
    terminal.wait_for("hello alice")
    probe.say("/talk")
    terminal.wait_for("* guest")
    terminal.status_line(lambda row: "is talking | 2 on: " in row)
    probe.say("/over")
    terminal.wait_for("is over; the floor is free")

    terminal.type("hi from the terminal", enter=True)
    probe.wait_for("<alice> hi from the terminal")
    # Shown once, as a chat line: the typed line itself is erased from the prompt.
    terminal.wait_until(
        lambda screen: (
            "<alice> hi from the terminal" in screen and screen.count("hi from the terminal") == 1
        )
    )

    terminal.type("/who", enter=True)
    terminal.wait_for("2 on the channel: ")
    terminal.type("/history 5", enter=True)
    terminal.wait_for("[history ")
    terminal.wait_for("end of history")
    assert "pwned" not in terminal.screen()

    terminal.type("/quit", enter=True)
    terminal.wait_for("[exit 0]")


def test_typed_input_survives_incoming_lines(hub: Hub, probe: Probe, terminal: Terminal) -> None:
    terminal.type("half a li")
    terminal.wait_for("> half a li")
    probe.say("interruption")

    def interrupted_but_intact(screen: str) -> bool:
        rows = screen.splitlines()
        prompts = [n for n, row in enumerate(rows) if row.startswith(">")]
        chat = [n for n, row in enumerate(rows) if row.endswith("> interruption")]
        return (
            len(chat) == 1
            and [rows[n] for n in prompts] == ["> half a li"] > []
            and (chat[0] < prompts[0])
        )

    terminal.wait_until(interrupted_but_intact, "the line above the intact prompt")
    terminal.type("ne", enter=True)
    probe.wait_for("<alice> half a line")


def test_a_narrow_terminal_still_shows_who_is_talking(hub: Hub, probe: Probe) -> None:
    screen = Terminal(*WALKIE, "client", hub.address, "--nick", "alice", width=30, height=10)
    try:
        screen.wait_for("connected to")
        probe.say("/talk")
        row = screen.status_line(lambda row: "is talking" in row)
    finally:
        screen.close()
    assert row.startswith(" ● ") and "127.0.0.1" not in row  # the address made room


def test_the_status_line_tells_of_a_lost_hub_and_lines_typed_meanwhile_arrive_once(
    hub: Hub, terminal: Terminal
) -> None:
    hub.kill()
    terminal.wait_for("reconnecting")
    terminal.type("said while away", enter=True)
    terminal.wait_for("<alice> said while away  (waits for the link)")
    terminal.status_line(lambda row: "reconnecting" in row and row.endswith("1 unsent"))
    hub.start()
    terminal.wait_for("reconnected")
    terminal.status_line(lambda row: "1 on: alice" in row and "unsent" not in row)
    assert stored_lines(hub.port).count("<alice> said while away") == 1


def test_commands_complete_with_tab(hub: Hub, terminal: Terminal) -> None:
    terminal.type("/hi")
    terminal.wait_for("show the last N messages")  # the completion menu
    terminal.press("Tab")
    terminal.wait_for("> /history")
    terminal.press("Enter")
    terminal.wait_for("end of history")


def fill_the_screen_with_chat(probe: Probe, terminal: Terminal, last: str = "chat line") -> str:
    """Say more lines than the terminal has rows; the screen once the last of
    them, ``<nick> {last} 30``, shows right above the prompt."""
    for n in range(1, 31):  # more than the terminals here have rows
        probe.say(f"{last} {n}")
    return terminal.wait_until(
        lambda screen: prompt_under(f"> {last} 30", ">", screen), f"{last} 30 above the prompt"
    )


def prompt_under(chat: str, prompt: str, screen: str, menu: int = 0) -> bool:
    """The screen ends with a row ending in ``chat``, the ``prompt`` row, ``menu``
    rows of the completion menu, then the status line: no blank rows kept."""
    rows = screen.splitlines()
    above = -3 - menu
    return rows[above].endswith(chat) and rows[above + 1].rstrip() == prompt


def test_chat_fills_the_screen_down_to_the_prompt_and_the_menu_still_opens(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    # No blank rows kept for a menu that is closed: the prompt, then the status line.
    fill_the_screen_with_chat(probe, terminal)
    terminal.type("/")
    menu = terminal.wait_for("/quit — leave")  # the last of the commands: all of them show
    assert all(command in menu for command in COMMANDS)


@pytest.mark.parametrize("rows", [6, 8, 9])
def test_a_short_terminal_shows_the_menu_under_some_chat(hub: Hub, probe: Probe, rows: int) -> None:
    screen = Terminal(*WALKIE, "client", hub.address, "--nick", "alice", width=80, height=rows)
    try:
        screen.wait_for("connected to")
        fill_the_screen_with_chat(probe, screen)
        screen.type("/")
        shown = screen.wait_until(lambda s: "/nick NAME" in s or "too small" in s, "the menu")
    finally:
        screen.close()
    # From the top: CHAT_ROWS_KEPT rows of chat, the prompt, the menu, the status line.
    menu = rows - CHAT_ROWS_KEPT - 2
    assert prompt_under("> chat line 30", "> /", shown, menu=menu), shown
    top, *_, bottom = shown.splitlines()
    assert top.endswith(f"> chat line {31 - CHAT_ROWS_KEPT}") and "alice" in bottom


def test_a_line_that_completes_to_nothing_keeps_no_rows_from_the_chat(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    fill_the_screen_with_chat(probe, terminal)
    scrolled = terminal.scrollback_lines()
    for typed in ("//zzz", "/unknown"):  # a line starting with '/', a command there is not
        terminal.type(typed)
        shown = terminal.wait_for(f"> {typed}")
        assert prompt_under("> chat line 30", f"> {typed}", shown), shown
        terminal.press("C-c")
    terminal.type("//zzz", enter=True)
    probe.wait_for("<alice> /zzz")
    terminal.wait_until(lambda screen: prompt_under("<alice> /zzz", ">", screen), "/zzz said")
    assert terminal.scrollback_lines() == scrolled + 1  # the line said, no more


def test_the_completion_menu_keeps_a_row_for_each_command_it_shows(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    fill_the_screen_with_chat(probe, terminal)
    terminal.type("/h")
    shown = terminal.wait_until(
        lambda screen: "/help — this list" in screen and "/history [N] —" in screen, "the menu"
    )
    assert prompt_under("> chat line 30", "> /h", shown, menu=2), shown


def test_a_command_recalled_with_up_keeps_no_rows_for_a_menu(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    terminal.type("/who", enter=True)
    terminal.wait_for("on the channel: ")
    fill_the_screen_with_chat(probe, terminal, "then")
    terminal.press("Up")
    shown = terminal.wait_for("> /who")
    assert prompt_under("> then 30", "> /who", shown), shown


def test_a_hub_that_cannot_be_reached_is_one_line_and_exit_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: refused
        port = sock.getsockname()[1]
        screen = Terminal(*WALKIE, "client", f"127.0.0.1:{port}")
        try:
            shown = screen.wait_for("[exit 1]")
        finally:
            screen.close()
    assert f"walkie client: cannot connect to 127.0.0.1:{port}: connection refused" in shown
    assert "reconnecting" not in shown


def test_a_wrong_token_is_one_line_and_exit_1(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the token\n")
    wrong.chmod(0o600)
    hub = HubProcess(tmp_path / "h.sqlite3", "--token-file", str(token)).start()
    screen = Terminal(*WALKIE, "client", hub.address, "--token-file", str(wrong))
    try:
        shown = screen.wait_for("[exit 1]")
    finally:
        screen.close()
        hub.stop()
    assert f"walkie client: {hub.address}: wrong or missing token" in shown
    assert shown.count("wrong or missing token") == 1
    assert "Traceback" not in shown


def test_each_line_of_a_paste_is_a_message(hub: Hub, probe: Probe, terminal: Terminal) -> None:
    terminal.paste("first pasted line\nsecond pasted line")
    terminal.press("Enter")
    probe.wait_for("<alice> first pasted line")
    probe.wait_for("<alice> second pasted line")


@contextlib.contextmanager
def alice_at_a_hub_with(tmp_path: Path, *flags: str) -> Iterator[Terminal]:
    """`walkie client --nick alice` on a terminal, joined to a hub started with ``flags``."""
    hub = HubProcess(tmp_path / "h.sqlite3", *flags).start()
    screen = Terminal(*WALKIE, "client", hub.address, "--nick", "alice")
    try:
        screen.wait_for("connected to")
        yield screen
    finally:
        screen.close()
        hub.stop()


def test_a_floor_that_timed_out_is_told_as_such(tmp_path: Path) -> None:
    with alice_at_a_hub_with(tmp_path, "--floor-timeout", "1") as screen:
        screen.type("/talk", enter=True)
        screen.wait_for("you have the floor")
        screen.wait_for("* alice's floor timed out; the floor is free")


def test_a_stored_message_from_another_day_shows_its_date(tmp_path: Path) -> None:
    last_week = time.time() - 8 * 24 * 3600
    history = History(tmp_path / "h.sqlite3")
    history.append("olduser", "said last week", ts=last_week)
    history.close()
    when = datetime.fromtimestamp(last_week).strftime("%Y-%m-%d %H:%M")
    with alice_at_a_hub_with(tmp_path) as screen:
        screen.wait_for(f"[history {when}] <olduser> said last week")


def test_commands_that_change_nothing_say_why(hub: Hub, probe: Probe, terminal: Terminal) -> None:
    terminal.type("/over", enter=True)
    terminal.wait_for("! you do not hold the floor")
    terminal.type("/talk", enter=True)
    terminal.wait_for("you have the floor")
    terminal.type("/talk", enter=True)
    terminal.wait_for("* you already hold the floor")
    terminal.type("/history 0", enter=True)
    terminal.wait_for("! usage: /history [N], N from 1 to 200")
    terminal.type("/HISTORY 0", enter=True)  # commands in any case, as the hub reads them
    terminal.wait_until(lambda screen: screen.count("! usage: /history") == 2, "a second usage")
    terminal.type("/auth secret", enter=True)
    terminal.wait_for("! walkie client takes the token at start: --token-file FILE")
    terminal.type("/nick Alicia", enter=True)
    shown = terminal.wait_for("* you are now Alicia")
    assert "is now Alicia" not in shown  # said once


def test_leaving_with_lines_undelivered_says_so_and_exits_1(hub: Hub, terminal: Terminal) -> None:
    hub.kill()
    terminal.wait_for("reconnecting")
    terminal.type("never delivered", enter=True)
    terminal.status_line(lambda row: row.endswith("1 unsent"))  # back at the prompt
    terminal.press("C-d")
    shown = terminal.wait_for("[exit 1]")
    assert "! 1 line was not delivered" in shown


def test_ctrl_c_while_leaving_still_says_what_was_not_delivered(
    hub: Hub, terminal: Terminal
) -> None:
    hub.kill()
    terminal.wait_for("reconnecting")
    terminal.type("never delivered", enter=True)
    terminal.status_line(lambda row: row.endswith("1 unsent"))  # back at the prompt
    terminal.press("C-d")
    terminal.wait_until(lambda screen: "unsent" not in screen, "the prompt gone")
    time.sleep(0.3)  # the terminal back in cooked mode; the client waits 3 s for the line
    terminal.press("C-c")
    shown = terminal.wait_for("[exit 130]")
    assert "! 1 line was not delivered: you left with Ctrl-C (link " in shown


def test_ctrl_c_clears_a_typed_line_and_quits_on_an_empty_one(
    hub: Hub, probe: Probe, terminal: Terminal
) -> None:
    terminal.type("half a thought")
    terminal.wait_for("> half a thought")
    terminal.press("C-c")
    terminal.wait_until(lambda screen: "half a thought" not in screen, "the line cleared")
    terminal.type("the whole thought", enter=True)
    probe.wait_for("<alice> the whole thought")
    terminal.wait_for("<alice> the whole thought")  # shown: back at the prompt
    terminal.press("C-c")
    terminal.wait_for("[exit 0]")
    assert "<alice> half a thought" not in probe.reader.lines


def test_a_line_refused_is_said_and_the_exit_code_tells_of_it(tmp_path: Path) -> None:
    with alice_at_a_hub_with(tmp_path, "--max-line", "16") as screen:
        screen.type("longer than sixteen bytes", enter=True)
        screen.wait_for("not delivered")
        screen.type("/quit", enter=True)
        screen.wait_for("[exit 1]")


def test_a_line_too_long_is_quoted_by_its_beginning_only(hub: Hub, terminal: Terminal) -> None:
    terminal.type("L" * 1200, enter=True)  # the hub takes 1000 bytes
    shown = terminal.wait_for("…' not de")  # two rows at most, on 100 columns
    assert f"! line too long (1200 bytes; the hub takes 1000): '{'L' * 40}…' not de" in shown
    assert shown.count("L") == 40
