"""The keys of `walkie pi --simulate` on a terminal: what a user types counts,
the escape sequences of arrows and function keys do not, however they are
split into reads."""

from __future__ import annotations

import pytest

from walkie.station.keys import KeyDecoder

UP = b"\x1b[A"
F1 = b"\x1bOP"
F2 = b"\x1bOQ"
SHIFT_UP = b"\x1b[1;2A"
F5 = b"\x1b[15~"
KEYPAD_0 = b"\x1bOp"  # in the keypad's application mode
SHIFT_F1 = b"\x1bO2P"  # older xterms
CONSOLE_F1 = b"\x1b[[A"  # the Linux console, a Pi's own screen (TERM=linux)
CONSOLE_F5 = b"\x1b[[E"


def typed(*reads: bytes) -> str:
    keys = KeyDecoder()
    return "".join(keys.feed(data) for data in reads)


def test_letters_typed_are_keys() -> None:
    assert typed(b"apq") == "apq"


@pytest.mark.parametrize(
    "sequence", [UP, F1, F2, SHIFT_UP, F5, KEYPAD_0, SHIFT_F1, CONSOLE_F1, CONSOLE_F5]
)
def test_arrow_and_function_keys_are_no_letters(sequence: bytes) -> None:
    assert typed(b"a" + sequence + b"p") == "ap"


@pytest.mark.parametrize("sequence", [UP, F1, SHIFT_UP, F5, CONSOLE_F1])
def test_a_sequence_split_across_reads_is_still_dropped(sequence: bytes) -> None:
    for cut in range(1, len(sequence)):
        assert typed(sequence[:cut], sequence[cut:] + b"a") == "a", sequence[:cut]


def test_a_sequence_byte_by_byte_is_still_dropped() -> None:
    assert typed(*(bytes([byte]) for byte in UP + F1 + b"p")) == "p"


def test_the_escape_key_on_its_own_is_dropped_and_the_next_key_counts() -> None:
    assert typed(b"\x1b") == ""
    assert typed(b"\x1b", b"a") == "a"
    assert typed(b"\x1b\x1b" + UP + b"p") == "p"  # Escape twice, then a sequence


def test_an_escape_interrupting_a_sequence_starts_a_new_one() -> None:
    assert typed(b"\x1b[1;\x1bOPa") == "a"


def test_characters_beyond_ascii_are_keys_too_even_split() -> None:
    assert typed("é".encode()[:1], "é".encode()[1:] + b"a") == "éa"
