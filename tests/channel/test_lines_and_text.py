"""Line splitting and text hygiene: what a station sends before the channel sees it."""

from walkie.channel.lines import LineSplitter, LineTooLong
from walkie.channel.ratelimit import TokenBucket
from walkie.text import is_valid_nick, sanitize


def drain(splitter: LineSplitter) -> list[bytes | LineTooLong]:
    items: list[bytes | LineTooLong] = []
    while (item := splitter.next_line()) is not None:
        items.append(item)
    return items


def test_lines_split_on_newline_and_accept_crlf() -> None:
    splitter = LineSplitter(max_line=100)
    splitter.feed(b"one\r\ntw")
    assert drain(splitter) == [b"one"]
    splitter.feed(b"o\nthree\n")
    assert drain(splitter) == [b"two", b"three"]


def test_a_huge_line_without_newline_is_reported_once_and_never_buffered() -> None:
    splitter = LineSplitter(max_line=1000)
    chunk = b"x" * 65536
    reports = []
    for _ in range(160):  # 10 MB
        splitter.feed(chunk)
        reports += drain(splitter)
        assert splitter.buffered <= 1001
    assert reports == [LineTooLong(1000)]
    splitter.feed(b"tail of the long line\nnext line\n")
    assert drain(splitter) == [b"next line"]


def test_a_line_just_over_the_limit_is_refused_and_one_at_the_limit_passes() -> None:
    splitter = LineSplitter(max_line=10)
    splitter.feed(b"0123456789\r\n01234567890\nok\n")
    assert drain(splitter) == [b"0123456789", LineTooLong(10), b"ok"]


def test_escape_sequences_and_control_characters_are_removed() -> None:
    assert sanitize("\x1b[31mred\x1b[0m text") == "red text"
    assert sanitize("title\x1b]0;pwned\x07 after") == "title after"
    assert sanitize("nul\x00 bell\x07 del\x7f c1\x9b2J") == "nul bell del c1"
    assert sanitize("tab\there") == "tab here"
    assert sanitize("bidi \u202eevil") == "bidi evil"
    assert sanitize("héllo wörld ✓") == "héllo wörld ✓"


def test_nicks_are_short_words_starting_with_a_letter() -> None:
    assert is_valid_nick("alice") and is_valid_nick("Bob_2") and is_valid_nick("a-b")
    assert not is_valid_nick("") and not is_valid_nick("2cool")
    assert not is_valid_nick("x" * 17) and not is_valid_nick("bad nick")
    assert not is_valid_nick("évé")


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=5, burst=10, now=0.0)
    assert all(bucket.take(0.0) for _ in range(10))
    assert not bucket.take(0.0)
    assert abs(bucket.seconds_until_token(0.0) - 0.2) < 1e-9
    assert bucket.take(0.2)
    assert TokenBucket(rate=0, burst=1, now=0.0).take(0.0)
