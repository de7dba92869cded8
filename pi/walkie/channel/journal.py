"""The history's journal: each message in a file, written before anyone is
told about it.

Storing a message in SQLite costs an insert and a commit (two WAL writes and
SQLite's bookkeeping) — with the caches cold after the previous line's sends,
more than every other step between reading a line and sending it put
together. So :class:`~walkie.channel.history.History` first writes the message
here, the hub sends it, and a moment later the messages sent meanwhile move
into SQLite in one transaction. The journal then starts again at its
beginning; at start-up whatever it holds that SQLite lacks is recovered.

The file is mapped into memory, and a record is written by copying it into
the mapping: no system call (even one ``write`` into the page cache, with the
filesystem's bookkeeping for the file's times, took a third of the path from
a read to the first send with cold caches). The mapping is the kernel's page
cache, so a message is as safe from the moment it is copied here as it is in
the WAL: it survives the process being killed, not the machine losing power
before the pages reach the disk. The file's blocks are allocated before they
are mapped, so a full disk is an error when the journal grows, never a fault
in the middle of a copy.

Each record is a header — the body's length and CRC-32 — and a body: the
message id, time, sender's session and client id, nick and text. Records are
written over the old ones from the start of the file, so past the newest
records lie older ones (already in SQLite, with lower ids), zeros, or the torn
end of a copy that was interrupted: :func:`decode_entries` stops at the first
record whose length or checksum does not fit, and the history takes only the
run of ids that follows its own newest.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

_HEADER = struct.Struct("<II")  # body length, CRC-32 of the body
_BODY = struct.Struct("<qdqBIII")  # mid, ts, client id, flags, nick/session/text lengths
_HAS_SESSION = 1
_HAS_CLIENT_ID = 2
MAPPED_SIZE = 1024 * 1024
"""Bytes of file mapped at first, and kept between uses: when a burst made it
grow past this, it is cut back when it starts again."""


class JournalEntry(NamedTuple):
    """One message, its fields in the order of the history's insert."""

    mid: int
    ts: float
    nick: str
    text: str
    session: str | None
    client_id: int | None


def encode_entry(entry: JournalEntry) -> bytes:
    nick = entry.nick.encode()
    session = b"" if entry.session is None else entry.session.encode()
    text = entry.text.encode()
    flags = (_HAS_SESSION if entry.session is not None else 0) | (
        _HAS_CLIENT_ID if entry.client_id is not None else 0
    )
    body = (
        _BODY.pack(
            entry.mid,
            entry.ts,
            entry.client_id or 0,
            flags,
            len(nick),
            len(session),
            len(text),
        )
        + nick
        + session
        + text
    )
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def decode_entries(data: bytes) -> Iterator[JournalEntry]:
    """The records at the start of ``data``, up to the first that is torn or corrupt."""
    for entry, _ in _decode_records(data):
        yield entry


def _decode_records(data: bytes) -> Iterator[tuple[JournalEntry, int]]:
    """:func:`decode_entries`, each with the offset where its record ends."""
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        end = start + length
        if length < _BODY.size or end > len(data):
            return
        body = data[start:end]
        if zlib.crc32(body) != crc:
            return
        mid, ts, client_id, flags, nick_len, session_len, text_len = _BODY.unpack_from(body)
        if _BODY.size + nick_len + session_len + text_len != length:
            return
        strings = body[_BODY.size :]
        try:
            nick = strings[:nick_len].decode()
            session = strings[nick_len : nick_len + session_len].decode()
            text = strings[nick_len + session_len :].decode()
        except UnicodeDecodeError:
            return
        entry = JournalEntry(
            mid,
            ts,
            nick,
            text,
            session if flags & _HAS_SESSION else None,
            client_id if flags & _HAS_CLIENT_ID else None,
        )
        yield entry, end
        offset = end


class Journal:
    """The journal file: records copied into it one after the other, from the
    start again once they are all stored elsewhere."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._offset = 0
        self._map: mmap.mmap | None = None
        """Mapped at the first write, after :meth:`read` has recovered what the file held."""

    def read(self) -> list[JournalEntry]:
        """Every intact record from the start of the file."""
        return [entry for entry, _ in self._records()]

    def write_after(self, mid: int) -> None:
        """The next record goes after the one of message ``mid`` instead of
        over it: the messages :meth:`read` recovered up to it are not yet
        stored elsewhere after all (a full disk)."""
        for entry, end in self._records():
            if entry.mid == mid:
                self._offset = end
                return

    def _records(self) -> Iterator[tuple[JournalEntry, int]]:
        size = os.fstat(self._fd).st_size
        return _decode_records(os.pread(self._fd, size, 0))

    def write(self, entry: JournalEntry) -> None:
        data = encode_entry(entry)
        end = self._offset + len(data)
        mapped = self._map
        if mapped is None or end > len(mapped):
            mapped = self._map_for(end)
        mapped[self._offset : end] = data
        self._offset = end

    def start_again(self) -> None:
        """Everything written so far is stored elsewhere: the next record goes
        first (an older record is only ever read past the newest ones)."""
        self._offset = 0
        if self._map is not None and len(self._map) > MAPPED_SIZE:
            self._map_for(0)

    def _map_for(self, size: int) -> mmap.mmap:
        """Map the file anew, :data:`MAPPED_SIZE` long or twice ``size``, its
        blocks allocated (a full disk raises OSError here). Whatever lies past
        the records being written is stored elsewhere by now."""
        if self._map is not None:
            self._map.close()
            self._map = None
        length = MAPPED_SIZE if size <= MAPPED_SIZE else 2 * size
        before = os.fstat(self._fd).st_size
        os.ftruncate(self._fd, length)
        if length > before:
            try:
                _allocate(self._fd, before, length - before)
            except OSError:
                os.ftruncate(self._fd, before)  # never map blocks that are not there
                raise
        self._map = mmap.mmap(self._fd, length)
        return self._map

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _allocate(fd: int, offset: int, length: int) -> None:
    """Give these bytes of the file their disk blocks now."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, offset, length)
    else:  # macOS has no posix_fallocate: writing the zeros allocates them
        os.pwrite(fd, bytes(length), offset)
