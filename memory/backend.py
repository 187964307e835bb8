"""The storage-backend seam: what the store needs from its database beyond portable SQL.

The store's modules speak SQLAlchemy sessions and plain SQL for everything every engine
shares (items, versions, vectors, the audit log). What differs between engines goes
through :class:`StorageBackend`: opening the engine, telling corruption from other
errors, the lexical (full-text) search, integrity checks, and copying the whole database
out to a snapshot and back in. :class:`SQLiteBackend` fills it with SQLite, FTS5 and the
online backup API; a PostgreSQL backend fills the same protocol (tsvector, pg_dump or a
schema copy) without touching the store.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event

from memory._lock import FileLock
from memory.errors import MemoryStoreError, StoreCorrupt
from memory.namespaces import in_namespaces
from memory.records import LEVELS

#: The SQLite file inside a store folder.
DB_FILE = "memory.db"
#: BM25 column weights of (title, when_to_use, content, tags, scope).
_BM25_WEIGHTS = "8.0, 4.0, 1.0, 2.0, 1.0"
_FTS_COLUMNS = "title, when_to_use, content, tags, scope"
#: FTS5 over the items' text fields, kept in step by triggers (made with schema version 1).
SQLITE_FULL_TEXT = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
        {_FTS_COLUMNS}, content='items', content_rowid='pk', tokenize='porter unicode61')""",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_ai AFTER INSERT ON items BEGIN
        INSERT INTO items_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.pk, new.title, new.when_to_use, new.content, new.tags, new.scope);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_ad AFTER DELETE ON items BEGIN
        INSERT INTO items_fts(items_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.pk, old.title, old.when_to_use, old.content, old.tags, old.scope);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_au
        AFTER UPDATE OF {_FTS_COLUMNS} ON items BEGIN
        INSERT INTO items_fts(items_fts, rowid, {_FTS_COLUMNS})
        VALUES ('delete', old.pk, old.title, old.when_to_use, old.content, old.tags, old.scope);
        INSERT INTO items_fts(rowid, {_FTS_COLUMNS})
        VALUES (new.pk, new.title, new.when_to_use, new.content, new.tags, new.scope);
    END""",
]
_CORRUPTION = ("malformed", "not a database", "file is encrypted", "disk image", "corrupt")

Sql = tuple[str, tuple[Any, ...]]


class Lock(Protocol):
    """A cross-process exclusive lock, re-entrant within a process (memory/_lock.py)."""

    @property
    def held(self) -> bool:
        """True while this process holds it."""
        ...

    def try_acquire(self) -> bool:
        """Take it without waiting."""
        ...

    def hold(self, *, timeout: float) -> contextlib.AbstractContextManager[None]:
        """Held for a ``with`` block; :class:`StoreLocked` after ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release fully."""
        ...


class StorageBackend(Protocol):
    """The engine-specific half of a store (see the module docstring)."""

    name: str
    #: where the database lives, for messages
    location: str
    #: what to do about a damaged database, for messages
    recover_hint: str

    def engine_schema(self) -> list[str]:
        """The engine's own DDL made with schema version 1 (its full-text index)."""
        ...

    def make_lock(self, name: str) -> Lock:
        """The store-wide lock ``name`` (``write``: one writer at a time; ``index``: the
        process that writes the vector index)."""
        ...

    def explain(self, exc: BaseException) -> MemoryStoreError | None:
        """The user-facing error for a database error that is not a bug (an unreachable
        server), or None."""
        ...

    def exists(self) -> bool:
        """True when the database holds a store (or at least a file to open)."""
        ...

    def check_file(self) -> None:
        """Raise :class:`StoreCorrupt` when the database is plainly not one (cheap)."""
        ...

    def make_engine(self, *, readonly: bool, busy_ms: int) -> Engine:
        """The SQLAlchemy engine; transactions begin as the ``begin_mode`` option says."""
        ...

    def write_options(self) -> dict[str, Any]:
        """Execution options of a write transaction (taking the write lock up front)."""
        ...

    def refresh_statistics(self) -> None:
        """Bring the query planner's statistics up to date (after a bulk load)."""
        ...

    def is_corruption(self, exc: BaseException) -> bool:
        """Whether a database error means a damaged file rather than a passing failure."""
        ...

    def size_bytes(self) -> int:
        """The database's size on disk."""
        ...

    def quick_check(self, conn: Connection) -> str:
        """A fast soundness check: ``"ok"`` or what is wrong."""
        ...

    def integrity_problems(self, conn: Connection) -> list[str]:
        """The full integrity check of the database and its full-text index."""
        ...

    def lexical_search(
        self,
        match: str,
        *,
        status: str,
        levels: Sequence[str],
        scope: str | None,
        limit: int,
        namespaces: Sequence[str],
    ) -> Sql:
        """SQL giving (item id, score) of the items of ``namespaces`` matching ``match``;
        lower is better."""
        ...

    def lexical_counts(self, terms: Sequence[str], *, cap: int) -> Sql:
        """SQL giving one row: for each term, the items it matches, counting stops past
        ``cap``."""
        ...

    def lexical_unindexed(self, match: str, *, level: str, limit: int, namespace: str) -> Sql:
        """SQL giving ids of candidate and quarantined items of a level and namespace
        matching ``match``."""
        ...

    def copy_out(self, dest: Path) -> None:
        """Write a consistent point-in-time copy of the whole database to ``dest``."""
        ...

    def snapshot_version(self, src: Path, *, label: str) -> int:
        """The schema version of a snapshot file (0 when it has none); :class:`StoreCorrupt`,
        naming it ``label``, when it is not a memory store."""
        ...

    def copy_in(
        self, src: Path, *, timeout: float, seq: int, audit: tuple[str, str, float]
    ) -> None:
        """Replace the database's content by snapshot ``src``, then (one transaction) give
        it a new epoch, a change counter past ``seq``, and the audit row (actor, detail,
        time) of the restore."""
        ...


class SQLiteBackend:
    """SQLite in WAL mode with FTS5; one file ``memory.db`` in the store folder."""

    name = "sqlite"
    recover_hint = "or recover with `sqlite3 memory.db .recover`"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_path = folder / DB_FILE
        self.location = str(self.db_path)

    def engine_schema(self) -> list[str]:
        """FTS5 over the items' text fields, kept in step by triggers."""
        return list(SQLITE_FULL_TEXT)

    def make_lock(self, name: str) -> Lock:
        """A file lock ``NAME.lock`` in the store folder."""
        return FileLock(self.folder / f"{name}.lock")

    def explain(self, exc: BaseException) -> MemoryStoreError | None:
        """Nothing beyond corruption: a local file is always reachable."""
        return None

    def exists(self) -> bool:
        """True when the folder has a database file."""
        return self.db_path.is_file()

    def check_file(self) -> None:
        """Refuse a non-empty file that does not start with SQLite's header."""
        db = self.db_path
        if db.exists() and db.stat().st_size:
            with db.open("rb") as fh:
                head = fh.read(16)
            if head != b"SQLite format 3\x00":
                raise StoreCorrupt(
                    f"{db} is not an SQLite database (damaged or overwritten); restore a "
                    "snapshot with `journeyman memory restore NAME` or move the file away"
                )

    def make_engine(self, *, readonly: bool, busy_ms: int) -> Engine:
        """An engine whose connections run in autocommit; we issue BEGIN ourselves, because
        pysqlite's implicit transactions lose read-modify-write updates between processes."""
        db = self.db_path
        url = f"sqlite:///file:{db}?mode=ro&uri=true" if readonly else f"sqlite:///{db}"
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            pool_size=4,
            max_overflow=8,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            if not readonly:
                cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives process crashes (SIGKILL); only power loss may drop
            # the last commits, never corrupt the file.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def write_options(self) -> dict[str, Any]:
        """``BEGIN IMMEDIATE``: the write lock is taken before the first read."""
        return {"sqlite_begin": "IMMEDIATE"}

    def refresh_statistics(self) -> None:
        """Nothing: every SQLite query here has one sensible plan (FTS5 or an index)."""

    def is_corruption(self, exc: BaseException) -> bool:
        """SQLite's messages for a damaged or foreign file."""
        msg = str(exc).lower()
        return any(s in msg for s in _CORRUPTION)

    def size_bytes(self) -> int:
        """The main file's size (0 when missing)."""
        return self.db_path.stat().st_size if self.db_path.exists() else 0

    def quick_check(self, conn: Connection) -> str:
        """``PRAGMA quick_check(1)``."""
        return str(conn.exec_driver_sql("PRAGMA quick_check(1)").scalar_one())

    def integrity_problems(self, conn: Connection) -> list[str]:
        """``PRAGMA integrity_check`` and FTS5's own integrity check."""
        problems = []
        res = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check(5)")]
        if res != ["ok"]:
            problems.append("sqlite integrity: " + "; ".join(res))
        try:
            conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES('integrity-check')")
        except Exception as exc:  # SQLAlchemy wraps it: OperationalError or DatabaseError
            problems.append(f"full-text index: {exc}")
        return problems

    def lexical_search(
        self,
        match: str,
        *,
        status: str,
        levels: Sequence[str],
        scope: str | None,
        limit: int,
        namespaces: Sequence[str],
    ) -> Sql:
        """FTS5 BM25 over the items' text fields (FTS5 scores: lower is better)."""
        ns_cond, ns_params = in_namespaces(namespaces, "items.namespace")
        sql = (
            f"SELECT items.id, bm25(items_fts, {_BM25_WEIGHTS}) AS s "
            "FROM items_fts JOIN items ON items.pk = items_fts.rowid "
            f"WHERE items_fts MATCH ? AND items.status = ? AND {ns_cond}"
        )
        params: list[Any] = [match, status, *ns_params]
        if len(levels) < len(LEVELS):
            sql += f" AND items.level IN ({','.join('?' * len(levels))})"
            params += list(levels)
        if scope:
            sql += " AND (items.scope = ? OR items.scope LIKE ?)"
            params += [scope, scope.replace("%", r"\%") + "/%"]
        sql += " ORDER BY s LIMIT ?"
        params.append(limit)
        return sql, tuple(params)

    def lexical_counts(self, terms: Sequence[str], *, cap: int) -> Sql:
        """Count each term's matches, stopping at ``cap + 1``."""
        one = "(SELECT count(*) FROM (SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?))"
        params: list[Any] = []
        for term in terms:
            params += [f'"{term}"', cap + 1]
        return "SELECT " + ", ".join([one] * len(terms)), tuple(params)

    def lexical_unindexed(self, match: str, *, level: str, limit: int, namespace: str) -> Sql:
        """FTS5 over items the vector index does not hold (candidates, quarantined)."""
        return (
            "SELECT items.id FROM items_fts JOIN items ON items.pk = items_fts.rowid "
            "WHERE items_fts MATCH ? AND items.level = ? AND items.namespace = ? "
            "AND items.status IN ('candidate', 'quarantined') ORDER BY rank LIMIT ?",
            (match, level, namespace, limit),
        )

    def copy_out(self, dest: Path) -> None:
        """SQLite's online backup API in one step: consistent even while others write."""
        _backup(self.db_path, dest)

    def snapshot_version(self, src: Path, *, label: str) -> int:
        """Read ``schema_version`` from a snapshot file (opened read-only)."""
        with contextlib.closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as conn:
            try:
                row = conn.execute("SELECT version FROM schema_version").fetchone()
            except sqlite3.DatabaseError as exc:
                raise StoreCorrupt(f"{label} is not a memory store ({exc})") from exc
        return int(row[0]) if row else 0

    def copy_in(
        self, src: Path, *, timeout: float, seq: int, audit: tuple[str, str, float]
    ) -> None:
        """Backup ``src`` over the live file, then mark it restored in one transaction."""
        with contextlib.closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as source:
            dst = sqlite3.connect(self.db_path, timeout=timeout)
            try:
                source.backup(dst)
                dst.isolation_level = None
                dst.execute("BEGIN IMMEDIATE")
                # a new epoch and a change counter past the old one: every index
                # owner sees that the store changed underneath it
                dst.execute(
                    "UPDATE meta SET value = ? WHERE key = 'epoch'", (secrets.token_hex(8),)
                )
                dst.execute(
                    "UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) + 1 AS TEXT) "
                    "WHERE key = 'seq'",
                    (seq,),
                )
                dst.execute(
                    "INSERT INTO audit_log(seq, action, item_id, actor, detail, created_at) "
                    "VALUES (0, 'restore', NULL, ?, ?, ?)",
                    audit,
                )
                dst.execute("COMMIT")
            finally:
                dst.close()


def _backup(src: Path, dest: Path) -> None:
    """Copy SQLite database ``src`` to ``dest`` through a temporary file (atomic)."""
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as a:
        with contextlib.closing(sqlite3.connect(tmp)) as b:
            a.backup(b)
    tmp.replace(dest)


def backup_file(src: Path, dest: Path) -> None:
    """Copy a store's SQLite file (another store's, or a snapshot) to ``dest``."""
    _backup(src, dest)
