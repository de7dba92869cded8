"""Property tests of the history journal's records: whatever messages are
written, they read back as written; a write cut short anywhere over older
records never reads back as a message that was not written whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from walkie.channel.journal import JournalEntry, decode_entries, encode_entry

EXAMPLES = 300

entries = st.builds(
    JournalEntry,
    mid=st.integers(min_value=1, max_value=2**63 - 1),
    ts=st.floats(allow_nan=False),
    nick=st.text(max_size=40),
    text=st.text(max_size=200),
    session=st.one_of(st.none(), st.text(max_size=40)),
    client_id=st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
)
journals = st.lists(entries, max_size=8)


@settings(max_examples=EXAMPLES, deadline=None)
@given(written=journals)
def test_every_record_reads_back_as_it_was_written(written: list[JournalEntry]) -> None:
    data = b"".join(encode_entry(entry) for entry in written)
    assert list(decode_entries(data)) == written


@settings(max_examples=EXAMPLES, deadline=None)
@given(old=journals, new=journals, cut=st.integers(min_value=0))
def test_a_torn_write_over_older_records_reads_back_as_what_was_written_whole(
    old: list[JournalEntry], new: list[JournalEntry], cut: int
) -> None:
    # The file after newer records were written over older ones from its start,
    # the last write cut short by a crash.
    old_bytes = b"".join(encode_entry(entry) for entry in old)
    new_bytes = b"".join(encode_entry(entry) for entry in new)
    cut %= len(new_bytes) + 1
    read = list(decode_entries(new_bytes[:cut] + old_bytes[cut:]))
    whole = sum(1 for end in _record_ends(new) if end <= cut)
    assert read[:whole] == new[:whole]
    # Past them: older records (the history skips them by id), or the torn record
    # itself where the bytes it lacks are the ones already there.
    assert all(entry in old or entry in new[whole : whole + 1] for entry in read[whole:])


def _record_ends(written: list[JournalEntry]) -> list[int]:
    ends, offset = [], 0
    for entry in written:
        offset += len(encode_entry(entry))
        ends.append(offset)
    return ends


def test_fields_longer_than_64_kib_read_back_whole() -> None:
    # A hub configured with a long --max-line takes sessions and texts that long.
    entry = JournalEntry(1, 1.0, "ann", "t" * 70_000, "s" * 70_000, 3)
    assert list(decode_entries(encode_entry(entry))) == [entry]
