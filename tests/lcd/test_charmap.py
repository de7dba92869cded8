"""Unicode to the HD44780 A00 ROM: table, transliteration, `?`, no control bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from walkie.lcd.charmap import from_rom, to_rom


def test_plain_ascii_goes_through_unchanged() -> None:
    assert to_rom("Hello, world! 123 {x|y}") == b"Hello, world! 123 {x|y}"


def test_backslash_and_tilde_do_not_show_as_yen_and_arrow() -> None:
    rom = to_rom("C:\\dir ~home")
    assert 0x5C not in rom and 0x7E not in rom
    assert rom == b"C:/dir -home"


def test_letters_the_a00_rom_has_use_its_codes() -> None:
    assert to_rom("äöüñ") == bytes([0xE1, 0xEF, 0xF5, 0xEE])
    assert to_rom("µ°") == bytes([0xE4, 0xDF])
    assert to_rom("απΩΣ÷√∞") == bytes([0xE0, 0xF7, 0xF4, 0xF6, 0xFD, 0xE8, 0xF3])
    assert to_rom("¥→←") == bytes([0x5C, 0x7E, 0x7F])


def test_decomposed_input_finds_the_rom_letter_too() -> None:
    assert to_rom("a\u0308") == bytes([0xE1])


def test_other_accented_letters_lose_their_accents() -> None:
    assert to_rom("café crème à Åsa ÄÖÜ") == b"cafe creme a Asa AOU"
    assert to_rom("Łódź Øre") == b"Lodz Ore"


def test_common_symbols_are_transliterated() -> None:
    assert to_rom("5 € – “ok” … Straße") == b'5 EUR - "ok" ... Strasse'
    assert to_rom("ﬁ ½ ² Ｗ") == b"fi 1/2 2 W"


def test_half_width_katakana_use_the_rom_block() -> None:
    assert to_rom("ｱｲｳ") == bytes([0xB1, 0xB2, 0xB3])


def test_full_width_katakana_and_hiragana_show_as_the_roms_katakana() -> None:
    assert to_rom("カタカナ") == to_rom("ｶﾀｶﾅ")
    assert to_rom("ガパ") == to_rom("ｶﾞﾊﾟ")  # a voiced mark takes a cell of its own
    assert to_rom("こんにちは") == to_rom("ｺﾝﾆﾁﾊ")
    assert to_rom("ラーメン、ください。") == to_rom("ﾗｰﾒﾝ､ｸﾀﾞｻｲ｡")
    assert to_rom("ヶ月 ゐ 10〜12") == to_rom("ｹ? ｲ 10-12")  # the nearest the ROM has


def test_what_cannot_be_shown_becomes_a_question_mark() -> None:
    assert to_rom("hi 😀 漢") == b"hi ? ?"


def test_control_characters_never_reach_the_lcd() -> None:
    assert to_rom("a\tb\nc\x1b[31md\x00e\x7f\u200bf") == b"a b c[31mdef"


@given(st.text())
def test_any_text_maps_to_displayable_codes(text: str) -> None:
    rom = to_rom(text)
    assert all(code >= 0x20 and not 0x80 <= code <= 0xA0 for code in rom)


def test_rom_codes_read_back_as_what_the_lcd_shows() -> None:
    assert from_rom(to_rom("Grüße, señor ~\\")) == "Grüsse, señor -/"
    assert from_rom(bytes([0x5C, 0x7E, 0xFF])) == "¥→█"
