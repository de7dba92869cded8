"""Unicode text to HD44780 A00 character-ROM codes, and back for display.

This module owns what each character of a message becomes on the LCD. The A00
ROM (the common Japanese one) is ASCII from 0x20 to 0x7D except that 0x5C is
¥ and 0x7E/0x7F are → and ←; 0xA1-0xDF hold half-width katakana (full-width
katakana and hiragana are shown with them) and 0xE0-0xFF a few Greek
letters, symbols and accented lowercase letters (ä ö ü ñ).

`to_rom(text)` maps any string, one ROM byte per character cell: table
lookup first, then transliteration (NFKD without accents, a few symbols such
as € → EUR and ß → ss), then `?`. It never emits a byte below 0x20: control
characters become a space (whitespace) or vanish (format characters and
stray combining marks). `from_rom(data)` shows ROM codes as Unicode, for the
simulator's terminal view and tests.
"""

from __future__ import annotations

import functools
import unicodedata

UNMAPPABLE = b"?"

# ROM codes 0xE0-0xFF as Unicode; None where the glyph has no faithful character
# (descender forms of g j p q y, superscripts) so that nothing maps to them.
_HIGH_GLYPHS: tuple[str | None, ...] = (
    "α", "ä", "β", "ε", "μ", "σ", "ρ", None, "√", None, None, None, "¢", "£", "ñ", "ö",
    None, None, "θ", "∞", "Ω", "ü", "Σ", "π", None, None, "千", "万", "円", "÷", None, "█",
)  # fmt: skip

_HALFWIDTH_KATAKANA_FIRST = 0xFF61  # ｡ is ROM 0xA1; the block runs to ﾟ at 0xDF
_HALFWIDTH_KATAKANA_LAST = 0xFF9F
_ROM_KATAKANA_FIRST = 0xA1

ROM_TO_UNICODE: dict[int, str] = {code: chr(code) for code in range(0x20, 0x80)}
ROM_TO_UNICODE.update({0x5C: "¥", 0x7E: "→", 0x7F: "←"})
ROM_TO_UNICODE.update(
    {
        _ROM_KATAKANA_FIRST + index: chr(_HALFWIDTH_KATAKANA_FIRST + index)
        for index in range(_HALFWIDTH_KATAKANA_LAST - _HALFWIDTH_KATAKANA_FIRST + 1)
    }
)
ROM_TO_UNICODE.update({0xE0 + i: glyph for i, glyph in enumerate(_HIGH_GLYPHS) if glyph})
# Glyphs drawn without a Unicode twin: show the nearest letter.
ROM_TO_UNICODE.update({0xE7: "g", 0xEA: "j", 0xF0: "p", 0xF1: "q", 0xF9: "y", 0xF8: "x"})

# Unicode characters with a ROM glyph of their own (ASCII is handled apart).
_DIRECT: dict[str, int] = {
    glyph: code for code, glyph in ROM_TO_UNICODE.items() if code >= 0xA1 and code not in
    (0xE7, 0xEA, 0xF0, 0xF1, 0xF9, 0xF8)
}  # fmt: skip
_DIRECT.update(
    {
        "¥": 0x5C,
        "→": 0x7E,
        "←": 0x7F,
        "µ": 0xE4,  # micro sign, distinct from Greek mu
        "Ω": 0xF4,  # ohm sign
        "°": 0xDF,  # the semi-voiced mark looks like a degree sign
        "·": 0xA5,
        "•": 0xA5,
        "・": 0xA5,
        "。": 0xA1,
        "「": 0xA2,
        "」": 0xA3,
        "、": 0xA4,
    }
)

# Full-width kana in the ROM's half-width glyphs: NFKC takes each half-width
# character to its full-width twin (ｶ to カ, ﾞ to the combining voiced mark).
_KANA: dict[str, int] = {
    full: _ROM_KATAKANA_FIRST + index
    for index in range(_HALFWIDTH_KATAKANA_LAST - _HALFWIDTH_KATAKANA_FIRST + 1)
    if len(full := unicodedata.normalize("NFKC", chr(_HALFWIDTH_KATAKANA_FIRST + index))) == 1
}
_KANA.update({"゛": 0xDE, "゜": 0xDF})  # the spacing voiced marks
# Kana the ROM lacks, as their nearest: small ka and ke, small wa, old wi and we.
_KANA.update({kana: _KANA[near] for kana, near in zip("ヵヶヮヰヱ", "カケワイエ", strict=True)})
_HIRAGANA = ("\u3041", "\u3096")
_HIRAGANA_TO_KATAKANA = 0x60

# Characters whose ASCII code shows something else on A00, and common symbols
# that NFKD does not reduce to ASCII.
_TRANSLITERATIONS: dict[str, str] = {
    "\\": "/",  # 0x5C is ¥ on A00
    "~": "-",  # 0x7E is → on A00
    "〜": "-",  # the wave dash, as in 10〜12
    "€": "EUR",
    "ß": "ss",
    "ẞ": "SS",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "ł": "l",
    "Ł": "L",
    "þ": "th",
    "Þ": "Th",
    "ı": "i",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "‹": "<",
    "›": ">",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "⁄": "/",
    "…": "...",
    "×": "x",
    "±": "+-",
    "©": "(c)",
    "®": "(R)",
    "¡": "!",
    "¿": "?",
    "§": "S",
    "¶": "P",
}


def to_rom(text: str) -> bytes:
    """A00 ROM codes for `text`: one byte per LCD cell, never a control byte."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        mapped = _map_char(char)
        out += UNMAPPABLE if mapped is None else mapped
    return bytes(out)


def _full_width_kana(char: str) -> bytes | None:
    """Katakana (hiragana read as katakana) as the ROM's half-width glyphs: ガ
    is ｶ and ﾞ, two cells, as half-width text writes it."""
    if _HIRAGANA[0] <= char <= _HIRAGANA[1]:
        char = chr(ord(char) + _HIRAGANA_TO_KATAKANA)
    parts = unicodedata.normalize("NFD", char)
    if all(part in _KANA for part in parts):
        return bytes(_KANA[part] for part in parts)
    return None


def from_rom(data: bytes) -> str:
    """How ROM codes look, as Unicode (blank for codes without a glyph)."""
    return "".join(ROM_TO_UNICODE.get(code, " ") for code in data)


@functools.lru_cache(maxsize=4096)
def _map_char(char: str) -> bytes | None:
    if char in _DIRECT:
        return bytes((_DIRECT[char],))
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char].encode("ascii")
    code = ord(char)
    if 0x20 <= code <= 0x7D:
        return bytes((code,))
    if _HALFWIDTH_KATAKANA_FIRST <= code <= _HALFWIDTH_KATAKANA_LAST:
        return bytes((code - _HALFWIDTH_KATAKANA_FIRST + _ROM_KATAKANA_FIRST,))
    kana = _full_width_kana(char)
    if kana is not None:
        return kana
    if char.isspace():
        return b" "
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Mn", "Me", "Mc"):
        return b""  # invisible: controls, format characters, stray accents
    base = "".join(
        part
        for part in unicodedata.normalize("NFKD", char)
        if not unicodedata.category(part).startswith("M")
    )
    if not base or base == char:
        return None
    pieces = [_map_char(part) for part in base]
    if any(piece is None for piece in pieces):
        return None
    return b"".join(piece for piece in pieces if piece is not None)
