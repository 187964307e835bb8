"""The state every part of the store shares: settings, database, index, embedder.

:class:`memory.store.MemoryStore` is built in layers, one module per responsibility,
each a class over the one below: this core, index sync (memory/indexsync.py), reads and
search (memory/reads.py), writes and the gate (memory/writes.py), episodes
(memory/episodes.py) and maintenance (memory/maintenance.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sqlmodel import Session

from memory.backend import DB_FILE, StorageBackend
from memory.backends import INDEX_DIR, make_backend, make_index, make_index_lock
from memory.db import Database
from memory.embeddings import FIELDS_SUFFIX, Embedder, build_embedder, embed_fields, minilm_model_id
from memory.errors import MemoryStoreError, ReadOnlyStore
from memory.exact import ExactIndex
from memory.index import ChromaIndex
from memory.namespaces import NamespaceView
from memory.queries import STORE_ID
from memory.records import MemoryItem
from memory.settings import MemorySettings

__all__ = ["INDEX_DIR", "StoreCore", "model_id_of"]

log = logging.getLogger(__name__)


def model_id_of(settings: MemorySettings, embedder: Embedder | None = None) -> str:
    """The id stored with item vectors: the embedding model's, marked as field vectors."""
    if embedder is not None:
        base = embedder.model_id
    elif settings.embedder == "minilm-onnx":
        base = minilm_model_id(settings.embedding_compute)
    else:
        base = f"openai:{settings.embedding_model}"
    return base + FIELDS_SUFFIX


class StoreCore:
    """Settings, the database, the index and the embedder of one open store."""

    def __init__(
        self,
        path: Path,
        *,
        settings: MemorySettings,
        readonly: bool,
        embedder: Embedder | None,
        backend: StorageBackend | None = None,
    ) -> None:
        self.path = path
        self.settings = settings
        self.readonly = readonly
        self._embedder = embedder
        self.model_id = model_id_of(settings, embedder)
        # what this store reads and writes (checked again: model_copy skips validators)
        self.view = NamespaceView.of(settings.namespace, settings.read_namespaces)
        self._last_query: tuple[str, np.ndarray] | None = None  # recall asks twice
        self.backend: StorageBackend = backend or make_backend(path, settings)
        self.db_path = path / DB_FILE  # the SQLite backend's file (kept for callers)
        self.db = Database(
            self.backend, path, readonly=readonly, lock_timeout_s=settings.lock_timeout_s
        )
        self._index_lock = make_index_lock(path, settings, self.backend) if not readonly else None
        self.index = self._new_index(writable=False)
        self._exact: ExactIndex | None = None
        self._index_behind = False  # changes left for the index's next batch
        self._deferred_at: tuple[int, str] | None = None  # (seq, epoch) last found waiting
        self._closed = False
        self.repairs: list[str] = []  # what open() repaired, for the user to see

    @property
    def namespace(self) -> str:
        """The namespace this store writes."""
        return self.view.write

    @property
    def read_namespaces(self) -> tuple[str, ...]:
        """The namespaces this store reads (the written one first)."""
        return self.view.read

    def _new_index(self, *, writable: bool) -> ChromaIndex:
        """The vector index the settings name (a local folder or a Chroma server)."""
        return make_index(self.path, self.settings, self.backend, self._store_id, writable=writable)

    def _store_id(self) -> str:
        """The store's id (names its collections on a shared Chroma server)."""
        with self.db.read() as s:
            return str(s.connection().exec_driver_sql(STORE_ID).scalar_one_or_none() or "local")

    def close(self) -> None:
        """Release locks and connections (idempotent)."""
        if self._closed:
            return
        try:
            self._flush_index()
        except Exception as exc:  # the index catches up when the store is next opened
            log.warning("memory index not brought up to date on close: %s", exc)
        self._closed = True
        self.index.close()
        self.db.close()
        if self._index_lock is not None:
            self._index_lock.close()

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded at first use (listing and stats never need it)."""
        if self._embedder is None:
            self._embedder = build_embedder(self.settings)
            self.model_id = model_id_of(self.settings, self._embedder)
        return self._embedder

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's vector; the last one is kept (recall searches SOPs and episodes with
        the same task text)."""
        if self._last_query is None or self._last_query[0] != query:
            self._last_query = (query, self.embedder.embed([query])[0])
        return self._last_query[1]

    def embed_items(self, items: Sequence[MemoryItem]) -> np.ndarray:
        """The items' unit vectors (each field embedded on its own, see ``embed_fields``)."""
        return embed_fields(self.embedder, [it.embed_fields() for it in items])

    @property
    def owns_index(self) -> bool:
        """True when this process writes the Chroma index."""
        return self._index_lock is not None and self._index_lock.held

    def _read(self) -> contextlib.AbstractContextManager[Session]:
        return self.db.read()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction under the writer lock; syncs the index after."""
        if self.readonly:
            raise ReadOnlyStore("this memory store was opened read-only")
        if self._closed:
            raise MemoryStoreError("the memory store is closed")
        with self.db.locked():
            with self.db.write() as session:
                yield session
            self._sync_index(defer=True)

    def _sync_index(self, *, defer: bool = False, persist: bool = True) -> tuple[int, str] | None:
        """Apply the changes the index has not seen (memory/indexsync.py)."""
        raise NotImplementedError

    def _flush_index(self) -> None:
        """Apply the changes left for a batch (memory/indexsync.py)."""
        raise NotImplementedError
