"""Choosing a store's backend and vector index from its settings.

``memory.backend = "sqlite"`` (the default): the SQLite file and a local Chroma folder in
the store folder. ``"postgres"``: the database at ``memory.url`` (memory/pgbackend.py),
with its index on the Chroma server at ``memory.index_url`` (memory/serverindex.py), or
in a local Chroma folder when no server is given. The store folder keeps the snapshots.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memory._lock import FileLock
from memory.backend import Lock, SQLiteBackend, StorageBackend
from memory.errors import InvalidInput
from memory.index import ChromaIndex
from memory.pgbackend import PostgresBackend
from memory.serverindex import ServerIndex, parse_index_url
from memory.settings import MemorySettings

INDEX_DIR = "index"


def make_backend(folder: Path, settings: MemorySettings) -> StorageBackend:
    """The storage backend the settings name; :class:`InvalidInput` for a bad combination."""
    if settings.backend == "postgres":
        if settings.index_url:
            parse_index_url(settings.index_url)  # a bad URL fails before anything opens
        return PostgresBackend(settings.url)
    if settings.index_url:
        raise InvalidInput(
            "memory.index_url (a Chroma server) needs memory.backend = 'postgres'; "
            "an SQLite store keeps its index in its folder"
        )
    return SQLiteBackend(folder)


def make_index(
    folder: Path,
    settings: MemorySettings,
    backend: StorageBackend,
    store_id: Callable[[], str],
    *,
    writable: bool,
) -> ChromaIndex:
    """The store's vector index: on the Chroma server, or in the folder's ``index/``."""
    if settings.index_url and backend.name == "postgres":
        return ServerIndex(settings.index_url, store_id, writable=writable)
    return ChromaIndex(folder / INDEX_DIR, writable=writable)


def make_index_lock(folder: Path, settings: MemorySettings, backend: StorageBackend) -> Lock:
    """Who writes the index: one process per server index (an advisory lock every machine
    sees), one per folder for a local index (a file lock)."""
    if settings.index_url and backend.name == "postgres":
        return backend.make_lock("index")
    return FileLock(folder / "index.lock")
