"""The SQLite schema and its versioned migrations.

``schema_version`` holds one row. A store written by a newer version of this code is
refused with :class:`SchemaTooNew` instead of being misread; an older one is migrated
step by step inside one write transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlmodel import SQLModel

from memory.errors import SchemaTooNew, StoreCorrupt
from memory.records import AuditEntry, Episode, ItemVector, ItemVersion, MemoryItem

SCHEMA_VERSION = 2

_FTS_COLUMNS = "title, when_to_use, content, tags, scope"

_V1_SQL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('seq', '0')",
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', lower(hex(randomblob(8))))",
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


def _v1(conn: Connection) -> None:
    # only our tables: SQLModel.metadata is shared with any other package's models
    models: list[Any] = [MemoryItem, ItemVersion, Episode, ItemVector, AuditEntry]
    SQLModel.metadata.create_all(conn, tables=[m.__table__ for m in models])
    for stmt in _V1_SQL:
        conn.exec_driver_sql(stmt)


def _v2(conn: Connection) -> None:
    # one row per (episode, item): utility counts episodes, not subtask attempts
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS item_outcomes (
            episode TEXT NOT NULL, item_id TEXT NOT NULL, success INTEGER NOT NULL,
            PRIMARY KEY (episode, item_id))"""
    )


#: version -> the step that brings a store from version-1 to version.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2}


def read_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty file."""
    names = {
        row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if "schema_version" not in names:
        if names - {"sqlite_sequence"}:
            raise StoreCorrupt(
                "this SQLite file is not a journeyman memory store (no schema_version table)"
            )
        return 0
    row = conn.exec_driver_sql("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION` (inside the caller's write transaction).

    Returns (version before, version after).
    """
    before = read_version(conn)
    if before > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"this memory store has schema version {before}, newer than this journeyman "
            f"understands ({SCHEMA_VERSION}); upgrade journeyman to open it"
        )
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    for version in range(before + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](conn)
        conn.exec_driver_sql("DELETE FROM schema_version")
        conn.exec_driver_sql("INSERT INTO schema_version(version) VALUES (?)", (version,))
    return before, SCHEMA_VERSION
