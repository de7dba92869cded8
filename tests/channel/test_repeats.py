"""A flood of wrong tokens in the log: the first said at once, the rest in
one line per interval, with how many and from where."""

from __future__ import annotations

from walkie.channel.repeats import SOURCES_NAMED, RepeatedEvent


def test_the_first_is_said_at_once_and_the_flood_after_it_in_one_summary() -> None:
    guesses = RepeatedEvent(interval=10)
    assert guesses.happened("192.0.2.1:4000", now=100)
    assert guesses.summary_due is None  # nothing held
    assert not guesses.happened("192.0.2.2:4001", now=101)
    assert not guesses.happened("192.0.2.2:4001", now=102)
    assert not guesses.happened("192.0.2.3:4002", now=103)
    assert guesses.summary_due == 110
    assert guesses.summary(now=110) == "3 more in 10 s, from 192.0.2.2:4001, 192.0.2.3:4002"
    assert guesses.summary(now=110) is None  # said once
    assert not guesses.happened("192.0.2.4:4003", now=115)  # within 10 s of the summary
    assert guesses.summary_due == 120
    assert guesses.happened("192.0.2.5:4004", now=200) is False  # one is still held
    assert guesses.summary(now=200) == "2 more in 10 s, from 192.0.2.4:4003, 192.0.2.5:4004"
    assert guesses.happened("192.0.2.6:4005", now=300)  # quiet again: at once


def test_a_summary_names_a_few_addresses_and_counts_every_guess() -> None:
    guesses = RepeatedEvent(interval=10)
    guesses.happened("first", now=0)
    sources = [f"198.51.100.{n}:5000" for n in range(SOURCES_NAMED + 3)]
    for source in sources:
        guesses.happened(source, now=1)
    summary = guesses.summary(now=10)
    assert summary is not None
    assert summary.startswith(f"{len(sources)} more in 10 s, from {sources[0]}")
    assert sources[SOURCES_NAMED - 1] in summary and sources[SOURCES_NAMED] not in summary
    assert summary.endswith(" and others")
