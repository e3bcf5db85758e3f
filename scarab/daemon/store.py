"""Store layer: the only module that touches sqlite3.

One connection, owned by the daemon's thread, WAL with synchronous=FULL so a committed control
operation survives a crash or power loss. Each public method is one transaction. Schema changes go
through `PRAGMA user_version` migrations. A database that cannot be opened is moved aside (never
deleted) and a fresh one created; the daemon then rebuilds sessions from live hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import msgpack

from scarab.daemon.windows import IdCounter
from scarab.errors import ScarabError, StorageError
from scarab.paths import tighten_private_dir

__all__ = ["PaneRecord", "SavedBuffer", "SavedSnapshot", "SessionRecord", "Store", "WindowRecord"]

SCHEMA_VERSION = 7
# The pane of a snapshot saved before sessions had windows (its session's only pane).
LEGACY_PANE = -1

# Each migration is a list of statements (executescript would commit behind our transaction).
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_attached INTEGER NOT NULL,
            cols INTEGER NOT NULL DEFAULT 80,
            rows INTEGER NOT NULL DEFAULT 24,
            cwd TEXT NOT NULL DEFAULT '',
            command TEXT NOT NULL DEFAULT '[]',
            state TEXT NOT NULL DEFAULT 'running',
            host_pid INTEGER NOT NULL DEFAULT 0,
            child_pid INTEGER NOT NULL DEFAULT 0,
            attached INTEGER NOT NULL DEFAULT 0,
            exit_status INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX IF NOT EXISTS idx_sessions_name ON sessions(name)",
        """CREATE TABLE IF NOT EXISTS snapshots (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            saved_at INTEGER NOT NULL,
            data BLOB NOT NULL
        )""",
    ],
    # When the host process started (/proc/PID/stat), so a pid reused by another process is never
    # taken for the host (resurrecting over a live host, or killing a stranger).
    2: ["ALTER TABLE sessions ADD COLUMN host_start INTEGER NOT NULL DEFAULT 0"],
    # Snapshots in the frame row encoding: `snapshots.data` holds the screen; history is stored in
    # pages by stable row index, appended as it grows (never rewritten), for the host process
    # (`epoch`) that numbered them. hist_first/hist_upto: the range the snapshot covers.
    3: [
        "ALTER TABLE snapshots ADD COLUMN epoch TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE snapshots ADD COLUMN hist_first INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE snapshots ADD COLUMN hist_upto INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE IF NOT EXISTS history (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            epoch TEXT NOT NULL,
            row_start INTEGER NOT NULL,
            row_stop INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (session_id, epoch, row_start)
        )""",
    ],
    # Names unique in the database too (races once left one name on several rows): later
    # duplicates get their id's start appended.
    4: [
        "UPDATE sessions SET name = name || '-' || substr(id, 1, 6) "
        "WHERE rowid NOT IN (SELECT min(rowid) FROM sessions GROUP BY name)",
        "DROP INDEX IF EXISTS idx_sessions_name",
        "CREATE UNIQUE INDEX idx_sessions_name ON sessions(name)",
    ],
    # Paste buffers (tmux's, kept across daemon restarts and reboots): a stack ordered by `seq`,
    # most recent highest; `automatic` ones (named bufferN) are the ones the limit drops.
    5: [
        """CREATE TABLE IF NOT EXISTS buffers (
            name TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            created INTEGER NOT NULL,
            automatic INTEGER NOT NULL,
            data BLOB NOT NULL
        )""",
    ],
    # Windows and panes (issue 14): each session's windows and panes as its host last reported them
    # (its latest Layout), the user's id counter (tmux's %N and @N, never reused), and snapshots and
    # history pages per pane (those saved before keep pane LEGACY_PANE: the session's only pane).
    6: [
        """CREATE TABLE windows (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            name TEXT NOT NULL,
            flags TEXT NOT NULL DEFAULT '',
            layout TEXT NOT NULL,
            active_pane INTEGER NOT NULL,
            automatic_rename INTEGER NOT NULL DEFAULT 1,
            synchronize INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, id)
        )""",
        """CREATE TABLE panes (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            window INTEGER NOT NULL,
            left INTEGER NOT NULL,
            top INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            active INTEGER NOT NULL,
            visible INTEGER NOT NULL,
            pid INTEGER NOT NULL DEFAULT 0,
            cwd TEXT NOT NULL DEFAULT '',
            command TEXT NOT NULL DEFAULT '[]',
            current TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            exited INTEGER NOT NULL DEFAULT 0,
            exit_status INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, id)
        )""",
        "CREATE TABLE ids (one INTEGER PRIMARY KEY CHECK (one = 0), pane INTEGER NOT NULL, window INTEGER NOT NULL)",
        "INSERT INTO ids (one, pane, window) VALUES (0, 0, 0)",
        "ALTER TABLE snapshots RENAME TO snapshots_v4",
        """CREATE TABLE snapshots (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            pane INTEGER NOT NULL,
            saved_at INTEGER NOT NULL,
            data BLOB NOT NULL,
            epoch TEXT NOT NULL DEFAULT '',
            hist_first INTEGER NOT NULL DEFAULT 0,
            hist_upto INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, pane)
        )""",
        f"INSERT INTO snapshots SELECT session_id, {LEGACY_PANE}, saved_at, data, epoch, hist_first, hist_upto "
        "FROM snapshots_v4",
        "DROP TABLE snapshots_v4",
        "ALTER TABLE history RENAME TO history_v4",
        """CREATE TABLE history (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            pane INTEGER NOT NULL,
            epoch TEXT NOT NULL,
            row_start INTEGER NOT NULL,
            row_stop INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (session_id, pane, epoch, row_start)
        )""",
        f"INSERT INTO history SELECT session_id, {LEGACY_PANE}, epoch, row_start, row_stop, data FROM history_v4",
        "DROP TABLE history_v4",
    ],
    # A session's limits (issue 18) as its host last reported them, JSON [memory, cpu, tasks] (0: none),
    # so a session resurrected after its host is gone (a reboot) is limited as before; '': not known
    # (a session from before limits were kept: its new host takes config.toml's defaults).
    7: ["ALTER TABLE sessions ADD COLUMN limits TEXT NOT NULL DEFAULT ''"],
}


class _Corrupt(Exception):
    pass


@dataclass(frozen=True)
class SessionRecord:
    id: str
    name: str
    created_at: int
    last_attached: int
    cols: int = 80
    rows: int = 24
    cwd: str = ""
    command: tuple[str, ...] = ()
    state: str = "running"  # running | exited
    host_pid: int = 0
    child_pid: int = 0
    attached: int = 0
    exit_status: int = 0
    host_start: int = 0  # the host's start time in clock ticks since boot (0: unknown)
    limits: tuple[int, int, int] | None = None  # [memory, cpu, tasks] in force (0: none); None: not known

    def with_(self, **changes: Any) -> SessionRecord:
        return replace(self, **changes)


_COLUMNS = [f.name for f in fields(SessionRecord)]


def _row_to_record(row: sqlite3.Row) -> SessionRecord:
    values = dict(row)
    values["command"] = _command(values["command"])
    values["limits"] = _limits(values["limits"])
    return SessionRecord(**values)


@dataclass(frozen=True)
class WindowRecord:
    """One window of a session as its host last reported it (protocol.WindowInfo's fields)."""

    index: int
    id: int
    name: str
    flags: str
    layout: str  # tmux's layout string, checksum and pane ids included
    active_pane: int
    automatic_rename: bool = True
    synchronize: bool = False


@dataclass(frozen=True)
class PaneRecord:
    """One pane of a session as its host last reported it (protocol.PaneInfo's fields)."""

    id: int
    window: int  # its window's index
    left: int
    top: int
    width: int
    height: int
    active: bool
    visible: bool
    pid: int = 0
    cwd: str = ""
    command: tuple[str, ...] = ()
    current: str = ""
    title: str = ""
    exited: bool = False
    exit_status: int = 0


_WINDOW_COLUMNS = ("idx", "id", "name", "flags", "layout", "active_pane", "automatic_rename", "synchronize")
_PANE_COLUMNS = tuple(f.name for f in fields(PaneRecord))


def _limits(text: str) -> tuple[int, int, int] | None:
    """A stored limits column; anything but three whole numbers >= 0 is "not known"."""
    try:
        memory, cpu, tasks = json.loads(text)
    except (ValueError, TypeError):
        return None
    values = (memory, cpu, tasks)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return None
    return values


def _command(text: str) -> tuple[str, ...]:
    try:
        return tuple(str(a) for a in json.loads(text))
    except (ValueError, TypeError):
        return ()


@dataclass(frozen=True)
class SavedSnapshot:
    """Where a session's stored snapshot stands: history pages of host `epoch` cover [first, upto)."""

    epoch: str = ""
    first: int = 0
    upto: int = 0


@dataclass(frozen=True)
class SavedBuffer:
    name: str
    created: int
    automatic: bool
    data: bytes


class SnapshotWriter:
    """Snapshots are written on their own thread with their own connection (a connection belongs
    to the thread that made it), off the daemon's event loop, so saving never delays a keystroke.

    A snapshot is its screen (rewritten each time, one screenful) plus history pages appended by
    stable row index: each save writes only the rows that are new since the last one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scarab-snapshots")
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:  # e.g. its -wal file deleted a moment ago: reported, retried next time
                conn.close()
                raise StorageError(f"database {self.path}: {exc}") from None
            self._conn = conn
        return self._conn

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.wrap_future(self._pool.submit(fn, *args))

    def _append(self, session_id: str, pane: int, epoch: str, start: int, stop: int, data: bytes) -> None:
        with _storage_tx(self._db(), self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO history (session_id, pane, epoch, row_start, row_stop, data) "
                "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
                (session_id, pane, epoch, start, stop, data, session_id),
            )

    async def append_history(self, session_id: str, pane: int, epoch: str, start: int, stop: int, data: bytes) -> None:
        """Store one page of a pane's history rows [start, stop) (skipped if the session was deleted)."""
        await self._run(self._append, session_id, pane, epoch, start, stop, data)

    def _save(self, session_id: str, pane: int, data: bytes, saved: SavedSnapshot) -> None:
        with _storage_tx(self._db(), self.path) as conn:
            conn.execute(
                "INSERT INTO snapshots (session_id, pane, saved_at, data, epoch, hist_first, hist_upto) "
                "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?) "
                "ON CONFLICT(session_id, pane) DO UPDATE SET saved_at=excluded.saved_at, data=excluded.data, "
                "epoch=excluded.epoch, hist_first=excluded.hist_first, hist_upto=excluded.hist_upto",
                (session_id, pane, int(time.time()), data, saved.epoch, saved.first, saved.upto, session_id),
            )
            # Pages of another host, or of rows that fell off the scrollback, are no longer needed.
            conn.execute(
                "DELETE FROM history WHERE session_id = ? AND pane = ? AND (epoch != ? OR row_stop <= ?)",
                (session_id, pane, saved.epoch, saved.first),
            )

    async def save(self, session_id: str, pane: int, data: bytes, saved: SavedSnapshot) -> None:
        """Store a pane's screen and the history range its pages now cover (after the pages)."""
        await self._run(self._save, session_id, pane, data, saved)

    def _pages(self, session_id: str, pane: int, saved: SavedSnapshot) -> list[tuple[int, int, bytes]]:
        rows = (
            self._db()
            .execute(
                "SELECT row_start, row_stop, data FROM history WHERE session_id = ? AND pane = ? AND epoch = ? "
                "AND row_stop > ? AND row_start < ? ORDER BY row_start",
                (session_id, pane, saved.epoch, saved.first, saved.upto),
            )
            .fetchall()
        )
        return [(int(a), int(b), bytes(c)) for a, b, c in rows]

    def _write_restore(self, session_id: str, pane: int, saved: SavedSnapshot, head: bytes, target: Path) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(head)
            for start, stop, data in self._pages(session_id, pane, saved):
                f.write(msgpack.packb([start, stop, data], use_bin_type=True))

    async def write_restore(self, session_id: str, pane: int, saved: SavedSnapshot, head: bytes, target: Path) -> None:
        """The restore file a new host reads for one pane: `head`, then `[start, stop, rows]` per page."""
        await self._run(self._write_restore, session_id, pane, saved, head, target)

    async def pages(self, session_id: str, pane: int, saved: SavedSnapshot) -> list[tuple[int, int, bytes]]:
        return await self._run(self._pages, session_id, pane, saved)  # type: ignore[no-any-return]

    def reconnect(self) -> None:
        """Close this thread's connection (waiting for a write in progress); the next write opens a new one."""

        def close_conn() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._pool.submit(close_conn).result()

    def close(self) -> None:
        def close_conn() -> None:
            if self._conn is not None:
                self._conn.close()

        self._pool.submit(close_conn)
        self._pool.shutdown(wait=True)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.moved_aside: Path | None = None
        self.tightened = False  # the data directory was open to others and has been made 0700
        self.conn = self._open()
        self.snapshots = SnapshotWriter(path)
        self.wal = path.with_name(path.name + "-wal")
        self._wal_ino = 0  # the -wal file our connection writes, once seen

    def _open(self) -> sqlite3.Connection:
        try:
            self.tightened = tighten_private_dir(self.path.parent)
            self._make_private()
        except OSError as exc:
            raise StorageError(
                f"cannot create the data directory {self.path.parent}: {exc.strerror}; "
                "check that the disk is writable and the directory's permissions"
            ) from None
        except ScarabError as exc:
            raise StorageError(str(exc)) from None
        try:
            return self._connect()
        except _Corrupt:
            # Keep the damaged file for inspection and start afresh; sessions come back from live hosts.
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    self.path.with_name(self.path.name + suffix).rename(aside.with_name(aside.name + suffix))
            self.moved_aside = aside
            self._make_private()
            return self._connect()
        except sqlite3.OperationalError as exc:
            raise StorageError(_explain(exc, self.path)) from None

    def _make_private(self) -> None:
        """The database and its -wal/-shm hold saved screens: 0600. SQLite gives the -wal and -shm
        files it creates the database file's mode, so the database is created 0600 first."""
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(self.path.with_name(self.path.name + suffix), 0o600)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _Corrupt(check)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                # Migrations run in one transaction with a rollback journal: in WAL mode the log of
                # each schema rewrite would sit in the -wal file next to the database, more room
                # than a fresh database's data, which a nearly full disk may not have.
                conn.execute("PRAGMA journal_mode=DELETE")
                with _transaction(conn):
                    for target in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in _MIGRATIONS[target]:
                            conn.execute(statement)
                        conn.execute(f"PRAGMA user_version={target}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("SELECT id, name, created_at, last_attached, cols, rows FROM sessions LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            conn.close()
            raise _Corrupt(str(exc)) from None
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self.snapshots.close()
        self.conn.close()

    def keep_wal(self) -> bool:
        """Repair a deleted -wal file; True if it was. Rows committed since the last checkpoint live
        only there: once its name is gone they would vanish with the last connection. They are still
        readable through our descriptor, so they are checkpointed into the database at once, and
        the connections reopened so that SQLite writes a new -wal file under the name. Told by the
        file's inode: a connection opened meanwhile may have made a new, empty file of that name."""
        try:
            ino = os.stat(self.wal).st_ino
        except FileNotFoundError:
            ino = 0
        if not self._wal_ino or ino == self._wal_ino:
            self._wal_ino = ino  # first seen (written since opened), or still the same file
            return False
        # Gone, or another file under its name (a connection opened since made a new, empty one).
        try:
            self.snapshots.reconnect()
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                return False  # a reader in the way: next time
            self.conn.close()
            self.conn = self._connect()
        except (sqlite3.Error, _Corrupt) as exc:
            raise StorageError(f"database {self.path}: its -wal file was deleted and repairing failed: {exc}") from None
        self._wal_ino = 0
        print(
            f"scarab: {self.wal} was deleted; its rows were saved into the database and a new one was started",
            file=sys.stderr,
            flush=True,
        )
        return True

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return _storage_tx(self.conn, self.path)

    # -- sessions ---------------------------------------------------------------------------------

    def sessions(self) -> list[SessionRecord]:
        rows = self.conn.execute("SELECT * FROM sessions ORDER BY created_at, rowid").fetchall()
        return [_row_to_record(r) for r in rows]

    def put(self, record: SessionRecord) -> None:
        """Insert or replace one session row, committed before returning."""
        values = [getattr(record, c) for c in _COLUMNS]
        values[_COLUMNS.index("command")] = json.dumps(list(record.command))
        values[_COLUMNS.index("limits")] = "" if record.limits is None else json.dumps(list(record.limits))
        with self._tx() as conn:
            conn.execute(
                f"INSERT INTO sessions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in _COLUMNS[1:])}",
                values,
            )
        self.keep_wal()

    def delete(self, session_id: str) -> None:
        with self._tx() as conn:
            for table in ("history", "snapshots", "panes", "windows"):
                conn.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        self.keep_wal()

    # -- windows and panes ------------------------------------------------------------------------

    def put_layout(self, session_id: str, windows: Iterable[WindowRecord], panes: Iterable[PaneRecord]) -> None:
        """Replace a session's windows and panes with these (its host's latest Layout), committed
        before returning; the snapshots and history of panes that are gone go with them."""
        window_rows = [
            (session_id, w.index, w.id, w.name, w.flags, w.layout, w.active_pane, w.automatic_rename, w.synchronize)
            for w in windows
        ]
        pane_rows = []
        for position, pane in enumerate(panes):
            values: list[object] = [getattr(pane, c) for c in _PANE_COLUMNS]
            values[_PANE_COLUMNS.index("command")] = json.dumps(list(pane.command))
            pane_rows.append((session_id, position, *values))
        with self._tx() as conn:
            conn.execute("DELETE FROM windows WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM panes WHERE session_id = ?", (session_id,))
            conn.executemany(
                f"INSERT INTO windows (session_id, {', '.join(_WINDOW_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_WINDOW_COLUMNS) + 1))})",
                window_rows,
            )
            conn.executemany(
                f"INSERT INTO panes (session_id, position, {', '.join(_PANE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(_PANE_COLUMNS) + 2))})",
                pane_rows,
            )
            if pane_rows:
                for table in ("snapshots", "history"):
                    conn.execute(
                        f"DELETE FROM {table} WHERE session_id = ? AND pane NOT IN "
                        "(SELECT id FROM panes WHERE session_id = ?)",
                        (session_id, session_id),
                    )
        self.keep_wal()

    def layout(self, session_id: str) -> tuple[list[WindowRecord], list[PaneRecord]]:
        """A session's windows by index and its panes in the order its host listed them."""
        windows = [
            WindowRecord(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5]), bool(r[6]), bool(r[7]))
            for r in self.conn.execute(
                f"SELECT {', '.join(_WINDOW_COLUMNS)} FROM windows WHERE session_id = ? ORDER BY idx", (session_id,)
            )
        ]
        panes = []
        for row in self.conn.execute(
            f"SELECT {', '.join(_PANE_COLUMNS)} FROM panes WHERE session_id = ? ORDER BY position", (session_id,)
        ):
            values = dict(zip(_PANE_COLUMNS, row, strict=True))
            values["command"] = _command(values["command"])
            for flag in ("active", "visible", "exited"):
                values[flag] = bool(values[flag])
            panes.append(PaneRecord(**values))
        return windows, panes

    def ids(self) -> IdCounter:
        """The user's next pane and window ids."""
        pane, window = self.conn.execute("SELECT pane, window FROM ids WHERE one = 0").fetchone()
        return IdCounter(int(pane), int(window))

    def put_ids(self, counter: IdCounter) -> None:
        """Commit the advanced counter (before any id it passed is used: an id is never handed out
        twice, whatever crashes). It only moves forward."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE ids SET pane = max(pane, ?), window = max(window, ?) WHERE one = 0",
                (counter.pane, counter.window),
            )
        self.keep_wal()

    # -- snapshots --------------------------------------------------------------------------------

    def snapshot(self, session_id: str, pane: int) -> tuple[int, bytes, SavedSnapshot] | None:
        """When a pane's screen was saved, the screen (a msgpack head), and the history range stored."""
        row = self.conn.execute(
            "SELECT saved_at, data, epoch, hist_first, hist_upto FROM snapshots WHERE session_id = ? AND pane = ?",
            (session_id, pane),
        ).fetchone()
        if not row:
            return None
        return int(row[0]), bytes(row[1]), SavedSnapshot(str(row[2]), int(row[3]), int(row[4]))

    def snapshot_panes(self, session_id: str) -> list[int]:
        """The panes of a session that have a saved screen."""
        rows = self.conn.execute("SELECT pane FROM snapshots WHERE session_id = ? ORDER BY pane", (session_id,))
        return [int(r[0]) for r in rows]

    # -- paste buffers ----------------------------------------------------------------------------

    def buffers(self, sample: int | None = None) -> list[SavedBuffer]:
        """Every paste buffer, most recent first; with `sample`, only that many bytes of each."""
        data = "data" if sample is None else f"substr(data, 1, {int(sample)})"
        rows = self.conn.execute(f"SELECT name, created, automatic, {data} FROM buffers ORDER BY seq DESC").fetchall()
        return [SavedBuffer(str(r[0]), int(r[1]), bool(r[2]), bytes(r[3])) for r in rows]

    def buffer_sizes(self) -> dict[str, int]:
        return {str(r[0]): int(r[1]) for r in self.conn.execute("SELECT name, length(data) FROM buffers")}

    def put_buffer(self, buffer: SavedBuffer, keep_automatic: int) -> None:
        """Push `buffer` on top of the stack (replacing one of its name), then drop the oldest
        automatic buffers beyond `keep_automatic`; committed before returning."""
        with self._tx() as conn:
            seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM buffers").fetchone()[0]
            conn.execute(
                "INSERT OR REPLACE INTO buffers (name, seq, created, automatic, data) VALUES (?, ?, ?, ?, ?)",
                (buffer.name, seq, buffer.created, int(buffer.automatic), buffer.data),
            )
            conn.execute(
                "DELETE FROM buffers WHERE automatic AND name NOT IN "
                "(SELECT name FROM buffers WHERE automatic ORDER BY seq DESC LIMIT ?)",
                (keep_automatic,),
            )
        self.keep_wal()

    def delete_buffer(self, name: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM buffers WHERE name = ?", (name,))
        self.keep_wal()


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def _storage_tx(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """One transaction whose failures become StorageError with an actionable message."""
    try:
        with _transaction(conn):
            yield conn
    except sqlite3.OperationalError as exc:
        raise StorageError(_explain(exc, path)) from None
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"database {path} failed: {exc}") from None


def _explain(exc: sqlite3.OperationalError, path: Path) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"database {path} is locked by another process; the change was not made, try again"
    if "full" in text:
        return f"disk full while writing {path}; the change was not made, free some space and retry"
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"database {path} is read-only; the change was not made, check the directory's permissions"
    return f"database {path}: {text}; the change was not made"
