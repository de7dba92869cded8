"""How many rows the terminal client keeps under its prompt for the completion
menu, as a pure function of what the menu shows and the terminal's height."""

from __future__ import annotations

from walkie.client.ui import CHAT_ROWS_KEPT, COMMANDS, rows_for_the_menu

EVERY_COMMAND = len(COMMANDS)


def test_the_menu_keeps_the_prompt_row_and_one_for_each_command_it_shows() -> None:
    assert rows_for_the_menu(EVERY_COMMAND, 24) == 1 + EVERY_COMMAND  # '/'
    assert rows_for_the_menu(2, 24) == 3  # '/h': /help and /history


def test_nothing_to_show_keeps_no_rows() -> None:
    assert rows_for_the_menu(0, 24) == 0  # '//text', '/unknown', a recalled '/who'


def test_a_short_terminal_keeps_the_status_line_and_some_chat() -> None:
    for rows in range(40):
        kept = rows_for_the_menu(EVERY_COMMAND, rows)
        assert kept == 0 or kept + 1 + CHAT_ROWS_KEPT <= rows  # the status line, the chat
    assert rows_for_the_menu(EVERY_COMMAND, 14) == 1 + EVERY_COMMAND  # the whole menu
    assert rows_for_the_menu(EVERY_COMMAND, 9) == 5  # 4 commands, scrolled through
    assert rows_for_the_menu(EVERY_COMMAND, 6) == 2  # 1 command
    assert rows_for_the_menu(EVERY_COMMAND, 5) == 0  # no menu at all: the chat stays
