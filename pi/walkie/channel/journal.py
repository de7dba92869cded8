"""The history's journal: each message in a file, written with one system call
before anyone is told about it.

Storing a message in SQLite costs an insert and a commit (two WAL writes and
SQLite's bookkeeping) — with the caches cold after the previous line's sends,
more than every other step between reading a line and sending it put
together. So :class:`~walkie.channel.history.History` first writes the message
here, the hub sends it, and a moment later the messages sent meanwhile move
into SQLite in one transaction. The journal then starts again at its
beginning; at start-up whatever it holds that SQLite lacks is recovered. A message is therefore as
safe from the moment it is written here as it is in the WAL: it survives the
process being killed (the kernel has the bytes), not the machine losing power
before they reach the disk.

Each record is a header — the body's length and CRC-32 — and a body: the
message id, time, sender's session and client id, nick and text. Records are
written over the old ones from the start of the file, so past the newest
records lie older ones (already in SQLite, with lower ids) or the torn end of a
write that was interrupted: :func:`decode_entries` stops at the first record
whose length or checksum does not fit, and the history takes only the run of
ids that follows its own newest.
"""

from __future__ import annotations

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
KEPT_SIZE = 1024 * 1024
"""Bytes the file may keep between uses; past that it is cut back when it starts again."""


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
        yield JournalEntry(
            mid,
            ts,
            nick,
            text,
            session if flags & _HAS_SESSION else None,
            client_id if flags & _HAS_CLIENT_ID else None,
        )
        offset = end


class Journal:
    """The journal file: records written one system call each, from the start
    again once they are all stored elsewhere."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._offset = 0

    def read(self) -> list[JournalEntry]:
        """Every intact record from the start of the file."""
        size = os.fstat(self._fd).st_size
        return list(decode_entries(os.pread(self._fd, size, 0)))

    def write(self, entry: JournalEntry) -> None:
        data = encode_entry(entry)
        written = os.pwrite(self._fd, data, self._offset)
        while written < len(data):  # a regular file takes it whole but for a full disk
            written += os.pwrite(self._fd, data[written:], self._offset + written)
        self._offset += len(data)

    def start_again(self) -> None:
        """Everything written so far is stored elsewhere: the next record goes
        first (an older record is only ever read past the newest ones)."""
        if self._offset > KEPT_SIZE:
            os.ftruncate(self._fd, 0)
        self._offset = 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
