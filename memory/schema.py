"""The store's schema (SQLite or PostgreSQL) and its versioned migrations.

``schema_version`` holds one row. A store written by a newer version of this code is
refused with :class:`SchemaTooNew` instead of being misread; an older one is migrated
step by step inside one write transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

from memory.errors import SchemaTooNew, StoreCorrupt
from memory.records import AuditEntry, Episode, ItemVector, ItemVersion, MemoryItem

SCHEMA_VERSION = 3

_V1_META = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta(key, value) VALUES ('seq', '0') ON CONFLICT DO NOTHING",
]


def _v1(conn: Connection, full_text: Sequence[str]) -> None:
    # only our tables: SQLModel.metadata is shared with any other package's models
    models: list[Any] = [MemoryItem, ItemVersion, Episode, ItemVector, AuditEntry]
    SQLModel.metadata.create_all(conn, tables=[m.__table__ for m in models])
    for stmt in _V1_META:
        conn.exec_driver_sql(stmt)
    conn.exec_driver_sql(
        "INSERT INTO meta(key, value) VALUES ('epoch', ?) ON CONFLICT DO NOTHING",
        (secrets.token_hex(8),),
    )
    for stmt in full_text:  # the engine's full-text index (memory/backend.py)
        conn.exec_driver_sql(stmt)


def _v2(conn: Connection, _full_text: Sequence[str]) -> None:
    # one row per (episode, item): utility counts episodes, not subtask attempts
    conn.exec_driver_sql(
        """CREATE TABLE IF NOT EXISTS item_outcomes (
            episode TEXT NOT NULL, item_id TEXT NOT NULL, success INTEGER NOT NULL,
            PRIMARY KEY (episode, item_id))"""
    )


def _v3(conn: Connection, _full_text: Sequence[str]) -> None:
    # namespaces: every item and episode of an older store belongs to "default"
    for table in ("items", "episodes"):
        columns = {c["name"] for c in inspect(conn).get_columns(table)}
        if "namespace" not in columns:  # a store made with version 1 has it already
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD COLUMN namespace VARCHAR NOT NULL DEFAULT 'default'"
            )
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS ix_{table}_namespace ON {table} (namespace)"
        )
    # the namespaces held (memory/queries.py); "WHERE true": SQLite's INSERT ... SELECT
    # needs it before ON CONFLICT
    conn.exec_driver_sql(
        "INSERT INTO meta(key, value) SELECT DISTINCT 'ns:' || namespace, '1' FROM items "
        "WHERE true ON CONFLICT DO NOTHING"
    )


#: version -> the step that brings a store from version-1 to version.
MIGRATIONS: dict[int, Callable[[Connection, Sequence[str]], None]] = {1: _v1, 2: _v2, 3: _v3}


def read_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty file."""
    names = set(inspect(conn).get_table_names())
    if "schema_version" not in names:
        if names - {"sqlite_sequence"}:
            raise StoreCorrupt(
                "this database is not a journeyman memory store (no schema_version table)"
            )
        return 0
    row = conn.exec_driver_sql("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection, full_text: Sequence[str]) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION` (inside the caller's write transaction);
    ``full_text`` is the engine's DDL of its full-text index (made with version 1).

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
        MIGRATIONS[version](conn, full_text)
        conn.exec_driver_sql("DELETE FROM schema_version")
        conn.exec_driver_sql("INSERT INTO schema_version(version) VALUES (?)", (version,))
    return before, SCHEMA_VERSION
