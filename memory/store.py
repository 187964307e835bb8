"""The memory store: SQLite (truth) + Chroma (index) behind one object.

A store is a folder::

    memory.db          SQLite, WAL: items, versions, episodes, vectors, FTS5, audit log
    index/             Chroma PersistentClient + index-state.json (derived, rebuildable)
    write.lock         held for the length of each write, by one process at a time
    index.lock         held for its lifetime by the one process that writes the index
    snapshots/NAME.db  frozen copies made with SQLite's backup API

Concurrency: every write is ``BEGIN IMMEDIATE`` on a connection whose isolation level
is None (pysqlite's implicit transactions lose read-modify-write updates between
processes), under ``write.lock`` so the gate's read-decide-write is atomic across
processes. Any number of processes may write; the first one to open a writable store
owns the Chroma index and applies every change (its own and, via a store-wide change
counter, other processes') to it; a store folder's index takes small changes in batches
of ``memory.index_batch`` while exact search answers every query (close, stats, verify
and the next open apply what waits). Read-only stores take no lock and never write Chroma.

:class:`MemoryStore` is assembled from one module per responsibility (each a layer over
the one before): memory/core.py (settings, database, embedder), memory/db.py (engine,
transactions, lock, schema), memory/backend.py (the engine-specific seam),
memory/indexsync.py, memory/reads.py (search), memory/writes.py (the gate's writes),
memory/episodes.py and memory/maintenance.py (snapshots, verify, import/export, curation).
"""

from __future__ import annotations

from pathlib import Path

from memory.backend import DB_FILE
from memory.backends import make_backend
from memory.core import INDEX_DIR
from memory.embeddings import Embedder
from memory.errors import ItemNotFound
from memory.maintenance import SNAPSHOT_DIR, Maintenance, VerifyReport
from memory.pgbackend import mask
from memory.retrieval import estimate_tokens
from memory.settings import MemorySettings
from memory.writes import WriteResult


class MemoryStore(Maintenance):
    """The hierarchical experience memory. Open with :meth:`open`; use as a context manager."""

    @classmethod
    def exists(cls, path: str | Path, settings: MemorySettings | None = None) -> bool:
        """True when folder ``path`` (or, for a PostgreSQL store, the database the
        settings name) holds a memory store."""
        return make_backend(Path(path).expanduser(), settings or MemorySettings()).exists()

    @classmethod
    def open(
        cls,
        path: str | Path,
        settings: MemorySettings | None = None,
        readonly: bool = False,
        *,
        embedder: Embedder | None = None,
    ) -> MemoryStore:
        """Open (creating if missing, unless read-only) the store in folder ``path``.

        Checks the schema version (migrating older stores, refusing newer ones), that the
        SQLite file is sound, and that the Chroma index matches SQLite (repairing it).
        """
        settings = settings or MemorySettings()
        folder = Path(path).expanduser()
        if readonly:
            if not cls.exists(folder, settings):
                where = (
                    settings.url and mask(settings.url)
                    if settings.backend == "postgres"
                    else folder
                )
                raise ItemNotFound(f"no memory store at {where} (nothing to open read-only)")
        else:
            folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, settings=settings, readonly=readonly, embedder=embedder)
        try:
            store.backend.check_file()
            store.db.prepare_schema()
            if not readonly:
                store._claim_index()
        except BaseException:
            store.close()
            raise
        return store

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "DB_FILE",
    "INDEX_DIR",
    "SNAPSHOT_DIR",
    "MemoryStore",
    "VerifyReport",
    "WriteResult",
    "estimate_tokens",
]
