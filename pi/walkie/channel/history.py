"""The channel's message history, kept in SQLite.

Every message is stored before anyone is told about it, so a hub killed at
any moment has lost nothing it acknowledged: :meth:`History.append` copies it
into the journal (:mod:`walkie.channel.journal`, a file mapped into memory), and
:meth:`History.commit`, which the hub calls a moment after the messages have
gone out, moves those appended since into SQLite in one transaction (at once
when :data:`PENDING_LIMIT` wait). Every query commits first, so it sees every
message appended. At start the journal's messages that SQLite lacks are
recovered. WAL mode with ``synchronous = NORMAL`` makes each commit durable
against a crash of the process (not of the machine) without an fsync per
message, as the journal's write is. ``(session, client_id)`` is unique, so a
client re-sending a message after a reconnect is recognised.

The hub is the file's only user: it holds it in exclusive locking mode (no
file locks or shared memory per message; a second hub on the same file is
refused at start, before it touches the journal). Message ids are the
history's own (max + 1: nothing is ever deleted, so none is reused), stored as
rowids so no second table is written per message.

Copying the WAL into the database file (a checkpoint) syncs both files, which
takes milliseconds: SQLite would do it in the middle of every thousandth
store. Here the hub calls :meth:`History.checkpoint` when the channel is
quiet, and a store checkpoints by itself only when :data:`CHECKPOINT_LIMIT`
messages are waiting, which bounds the WAL on a channel that is never quiet.

A full disk stops the commits, not the channel: the messages wait in the
journal (queries see them there), the hub retries, and they reach SQLite once
there is room. Only when the journal cannot take a message either (it cannot
grow, or :data:`UNSTORED_LIMIT` wait) is the message refused
(:class:`HistoryFull`), before anyone is told of it.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from walkie.channel.journal import Journal, JournalEntry
from walkie.errors import ConfigError, WalkieError

log = logging.getLogger(__name__)

LOCK_WAIT = 1.0
"""Seconds to wait for a history file another process holds (one that is just
exiting) before refusing it."""
CHECKPOINT_LIMIT = 10_000
"""Messages stored since the last checkpoint at which a store checkpoints at
once (about 40 MB of WAL: one 4 KiB page per message)."""
WAL_SIZE_KEPT = 4 * 1024 * 1024
"""Bytes of WAL file kept for reuse after a checkpoint; beyond that it is truncated."""
PENDING_LIMIT = 1000
"""Messages appended and not yet committed at which an append commits at once
(bounding the journal and the memory they take)."""
UNSTORED_LIMIT = 10_000
"""Messages the journal holds at most while SQLite cannot take them (a full
disk): beyond, :meth:`History.append` refuses new ones."""
JOURNAL_SUFFIX = ".journal"
"""The journal lives beside the database file, under its name and this suffix."""
_INSERT = "INSERT INTO messages (mid, ts, nick, text, session, client_id) VALUES (?, ?, ?, ?, ?, ?)"
"""Takes a :class:`~walkie.channel.journal.JournalEntry` as its row."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    mid INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    nick TEXT NOT NULL,
    text TEXT NOT NULL,
    session TEXT,
    client_id INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_sender
    ON messages (session, client_id) WHERE session IS NOT NULL;
CREATE TABLE IF NOT EXISTS channel (id TEXT NOT NULL);
INSERT INTO channel (id) SELECT lower(hex(randomblob(8))) WHERE NOT EXISTS (SELECT 1 FROM channel);
"""


def _create_private(path: Path) -> None:
    """Create the history file, if it is new, readable by its owner only:
    it holds everything said on the channel, and SQLite gives its WAL the
    database file's permissions, whatever the umask (the journal is made
    the same way)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:  # a file where its directory should be
        reason = os.strerror(errno.ENOTDIR)
        raise NotADirectoryError(errno.ENOTDIR, reason, str(path.parent)) from None
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))


class HistoryFull(WalkieError):
    """A message could not be stored (the disk is full): it must not be sent."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    mid: int
    ts: float
    nick: str
    text: str


class History:
    """Append-only message store over one SQLite file (``":memory:"`` for none)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                _create_private(Path(self.path))
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=LOCK_WAIT)
            self._db.execute("PRAGMA locking_mode = EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
            self._db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_KEPT}")
            self._db.executescript(_SCHEMA)
            self.channel_id: str = self._db.execute("SELECT id FROM channel").fetchone()[0]
            """Names this history: message ids are only comparable within one channel id."""
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename not in (None, self.path) else ""
            reason = f"{exc.strerror or exc}{where}"
            raise ConfigError(f"cannot open history database {self.path}: {reason}") from exc
        except sqlite3.Error as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            hint = " (is another hub using it?)" if busy else ""
            raise ConfigError(f"cannot open history database {self.path}: {exc}{hint}") from exc
        self.unchecked = 0
        """Messages stored since the last checkpoint."""
        self._pending: list[JournalEntry] = []
        """Appended (and journaled), not yet in SQLite."""
        self._pending_by_sender: dict[tuple[str, int], int] = {}
        self._journal: Journal | None = None
        self.failure: str | None = None
        """Why the last commit failed, while SQLite refuses the messages (a full
        disk); they wait in the journal meanwhile."""
        self.refusing = False
        """The last message could not be stored even in the journal."""
        self._next_mid = self._newest_stored() + 1
        if self.path != ":memory:":
            journal_path = self.path + JOURNAL_SUFFIX
            try:
                self._journal = Journal(journal_path)
                self._recover(self._journal)
            except (OSError, sqlite3.Error) as exc:
                self._db.close()
                raise ConfigError(f"cannot open history journal {journal_path}: {exc}") from exc

    def _recover(self, journal: Journal) -> None:
        """Store what the journal holds beyond SQLite's newest message: what a
        hub killed between sending and committing had sent."""
        for entry in journal.read():
            if entry.mid == self._next_mid:
                self._pending.append(entry)
                self._next_mid += 1
            elif self._pending:
                break  # past the newest records: older ones, already stored
        if self._pending:
            # Only a hub that did not stop cleanly leaves messages behind.
            log.warning(
                "recovered %d message(s) sent but not yet stored from %s",
                len(self._pending),
                journal.path,
            )
            self.unchecked = len(self._pending)
            if not self.try_commit():  # they stay in the journal: write after them
                journal.write_after(self._pending[-1].mid)

    def append(
        self,
        nick: str,
        text: str,
        ts: float,
        session: str | None = None,
        client_id: int | None = None,
    ) -> int:
        """Store a message (in the journal; in SQLite at the next commit) and
        return its id. :class:`HistoryFull` when it cannot be stored, having
        changed nothing."""
        if len(self._pending) >= UNSTORED_LIMIT:
            raise self._refusal(f"{UNSTORED_LIMIT} messages wait to be stored: {self.failure}")
        mid = self._next_mid
        entry = JournalEntry(mid, ts, nick, text, session, client_id)
        if self._journal is not None:
            try:
                self._journal.write(entry)
            except OSError as exc:
                raise self._refusal(f"the journal cannot grow: {exc.strerror or exc}") from exc
        if self.refusing:
            self.refusing = False
            log.warning("the history takes new messages again")
        self._next_mid = mid + 1
        self._pending.append(entry)
        if session is not None and client_id is not None:
            self._pending_by_sender[session, client_id] = mid
        self.unchecked += 1
        if self.failure is None:  # while SQLite refuses, the hub's timer retries
            if self.unchecked >= CHECKPOINT_LIMIT:
                self.checkpoint()
            elif len(self._pending) >= PENDING_LIMIT:
                self.try_commit()
        return mid

    def _refusal(self, reason: str) -> HistoryFull:
        """The error for a message that cannot be stored, logged when the
        refusals start."""
        if not self.refusing:
            self.refusing = True
            log.warning("new messages are refused, the history cannot store them: %s", reason)
        return HistoryFull(reason)

    @property
    def pending(self) -> int:
        """Messages appended since the last commit."""
        return len(self._pending)

    def try_commit(self) -> bool:
        """:meth:`commit`; False if SQLite refused (a full disk), which is
        logged when it starts and when it ends: the messages wait in the
        journal, and every query sees them meanwhile."""
        try:
            self.commit()
        except sqlite3.Error as exc:
            if self.failure is None:
                log.warning(
                    "cannot store the history in %s (%s): %d message(s) wait in its journal",
                    self.path,
                    exc,
                    len(self._pending),
                )
            self.failure = str(exc)
            return False
        if self.failure is not None:
            log.warning("the history is stored in %s again", self.path)
            self.failure = None
        return True

    def commit(self) -> None:
        """Move the messages appended since the last commit into SQLite."""
        pending = self._pending
        if not pending:
            return
        if len(pending) == 1:
            self._db.execute(_INSERT, pending[0])
        else:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, pending)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already
                    self._db.execute("ROLLBACK")
                raise
        pending.clear()
        self._pending_by_sender.clear()
        if self._journal is not None:
            self._journal.start_again()

    def checkpoint(self) -> None:
        """Copy the stored messages from the WAL into the database file.

        A failure (a full disk) is logged, not raised: the messages are stored
        in the WAL (or the journal) all the same, and the next checkpoint tries
        again. While SQLite refuses the commits it does nothing: the hub's
        retries of the commit come first, and each try rewrites every waiting
        message."""
        if self.failure is not None or not self.try_commit():
            return
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("history checkpoint of %s failed: %s", self.path, exc)
        self.unchecked = 0

    def find(self, session: str, client_id: int) -> int | None:
        """The id under which this client's message was stored, if it was."""
        pending = self._pending_by_sender.get((session, client_id))
        if pending is not None:
            return pending
        row = self._db.execute(
            "SELECT mid FROM messages WHERE session = ? AND client_id = ?", (session, client_id)
        ).fetchone()
        return None if row is None else int(row[0])

    def after(self, mid: int, limit: int) -> list[StoredMessage]:
        """The first ``limit`` messages newer than ``mid``, oldest first (one page of a resume)."""
        self._commit_unless_refused()
        rows = self._db.execute(
            "SELECT mid, ts, nick, text FROM messages WHERE mid > ? ORDER BY mid LIMIT ?",
            (mid, limit),
        ).fetchall()
        stored = [StoredMessage(*row) for row in rows]
        return (stored + self._waiting(after=mid))[:limit]

    def latest(self, count: int) -> list[StoredMessage]:
        """The newest ``count`` messages, oldest first."""
        self._commit_unless_refused()
        rows = self._db.execute(
            "SELECT mid, ts, nick, text FROM messages ORDER BY mid DESC LIMIT ?", (count,)
        ).fetchall()
        newest = [StoredMessage(*row) for row in reversed(rows)] + self._waiting(after=0)
        return newest[-count:] if count > 0 else []

    def _commit_unless_refused(self) -> None:
        """Commit before a query, so SQLite has every message; not while it
        refuses them (the hub's timer retries; each try rewrites every one
        waiting), when the query takes them from :meth:`_waiting`."""
        if self.failure is None:
            self.try_commit()

    def _waiting(self, after: int) -> list[StoredMessage]:
        """The messages newer than ``after`` that wait in the journal because
        SQLite refused them (none once a commit succeeds): all newer than any
        in SQLite."""
        return [StoredMessage(e.mid, e.ts, e.nick, e.text) for e in self._pending if e.mid > after]

    def newest_id(self) -> int:
        return self._next_mid - 1

    def _newest_stored(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(mid), 0) FROM messages").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Commit what is pending and close the files. Idempotent. What SQLite
        refuses stays in the journal, recovered at the next start."""
        if self._journal is not None:
            self.try_commit()
            self._journal.close()
            self._journal = None
        self._db.close()
