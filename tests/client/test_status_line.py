"""The terminal client's status line, laid out for the terminal's width."""

from __future__ import annotations

import pytest
from prompt_toolkit.utils import get_cwidth

from walkie.client.session import LinkState
from walkie.client.status_line import StatusFacts, status_line

ADDRESS = "127.0.0.1:43001"
BOB_TALKS = StatusFacts(
    LinkState.CONNECTED, ADDRESS, nick="alice", holder="bob", stations=("alice", "bob")
)


def shown(facts: StatusFacts, width: int) -> str:
    return "".join(text for _, text in status_line(facts, width))


def test_a_wide_terminal_shows_everything() -> None:
    assert shown(BOB_TALKS, 80) == f" ● alice@{ADDRESS} | bob is talking | 2 on: alice, bob "


def test_the_line_never_takes_more_than_the_width() -> None:
    many = StatusFacts(
        LinkState.CONNECTED,
        ADDRESS,
        nick="alice",
        holder="bob",
        stations=tuple(f"station{n}" for n in range(9)),
        unsent=3,
        waiting_for_floor=2,
    )
    for width in range(121):
        assert get_cwidth(shown(many, width)) <= width, width


def test_who_is_talking_survives_a_narrow_terminal() -> None:
    for width in range(20, 81):
        line = shown(BOB_TALKS, width)
        assert line.startswith(" ● "), width  # connected, said with the dot at least
        assert "| bob is talking " in line, width


@pytest.mark.parametrize(
    ("width", "line"),
    [
        (61, f" ● alice@{ADDRESS} | bob is talking | 2 on: alice, bob "),
        (60, " ● alice | bob is talking | 2 on: alice, bob "),  # the address goes first,
        (44, " ● alice | bob is talking | 2 on: alice +1 "),  # then the names one by one,
        (42, " ● alice | bob is talking | 2 on "),
        (32, " ● | bob is talking | 2 on "),  # then our own nick,
        (26, " ● | bob is talking "),  # then the station count
    ],
)
def test_a_narrow_terminal_shortens_the_least_useful_first(width: int, line: str) -> None:
    assert shown(BOB_TALKS, width) == line


def test_unsent_lines_survive_as_a_count() -> None:
    waiting = StatusFacts(
        LinkState.CONNECTED,
        ADDRESS,
        nick="alice",
        holder="bob",
        stations=("alice", "bob"),
        unsent=2,
        waiting_for_floor=2,
    )
    assert shown(waiting, 100).endswith("| 2 unsent, 2 waiting for the floor | 2 on: alice, bob ")
    assert shown(waiting, 60) == " ● alice | bob is talking | 2 unsent | 2 on "


def test_a_lost_link_keeps_its_state_and_the_unsent_count() -> None:
    lost = StatusFacts(
        LinkState.DISCONNECTED, ADDRESS, retry_in=3.2, link_reason="connection refused", unsent=1
    )
    assert shown(lost, 73) == (
        f" ○ reconnecting to {ADDRESS} in 3s (connection refused) | 1 unsent "
    )
    assert shown(lost, 72) == " ○ reconnecting in 3s (connection refused) | 1 unsent "
    assert shown(lost, 40) == " ○ reconnecting in 3s | 1 unsent "
    assert shown(lost, 30) == " ○ reconnecting | 1 unsent "


def test_what_does_not_fit_even_so_is_cut_at_the_end() -> None:
    assert shown(BOB_TALKS, 15) == " ● | bob is ta…"


def test_names_from_the_hub_are_shown_sanitised_and_measured_so() -> None:
    facts = StatusFacts(
        LinkState.CONNECTED, ADDRESS, nick="alice", holder="b\x1b[2Job", stations=("alice",)
    )
    assert shown(facts, 80) == f" ● alice@{ADDRESS} | bob is talking | 1 on: alice "
