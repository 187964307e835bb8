"""The Chroma vector index over active items: one collection per level, keyed by item id.

The index is derived data. It can be rebuilt from SQLite at any time (vectors are kept in
SQLite too), and a sidecar file ``index-state.json`` records what it holds: the embedding
model, the store-wide change counter it has applied, the item count and an
order-independent checksum over ``(id, version, namespace)`` triples. Comparing that
against SQLite on open is cheap and tells whether the index needs repair (an index built
before namespaces has another checksum, so it is repaired: every vector gets its
namespace in its metadata, which searches filter on). Only the process that owns the
store's index lock writes here; Chroma's local store is not safe with several writers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memory.records import LEVELS

STATE_FILE = "index-state.json"
_GET_PAGE = 5000
_WRITE_BATCH = 2000
# Chroma's defaults (16 neighbours, ef 100) lost up to 80% recall@5 when a store held a
# dense cluster of similar items next to a small distinct one (measured here with 10k
# items); 32 neighbours and ef 200 found every true neighbour at ~2 ms a query.
_HNSW = {"space": "cosine", "max_neighbors": 32, "ef_construction": 200, "ef_search": 200}


#: What the index holds of one item: (level, version, namespace); the namespace is None
#: for a vector indexed before namespaces (such an entry is stale and gets repaired).
Entry = tuple[str, int, str | None]


def pair_hash(item_id: str, version: int, namespace: str | None) -> int:
    """64-bit hash of one (id, version, namespace); XORed into the index checksum."""
    key = f"{item_id}:{version}:{namespace}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest())


def checksum(triples: Iterable[tuple[str, int, str | None]]) -> int:
    """Order-independent checksum over (id, version, namespace) triples."""
    acc = 0
    for item_id, version, namespace in triples:
        acc ^= pair_hash(item_id, version, namespace)
    return acc


def entry_of(level: str, meta: dict[str, Any] | None) -> Entry:
    """An index entry from a vector's metadata."""
    meta = meta or {}
    ns = meta.get("namespace")
    return level, int(meta.get("version", 0)), None if ns is None else str(ns)


def namespace_filter(namespaces: Sequence[str]) -> dict[str, Any]:
    """Chroma's ``where`` for vectors of these namespaces."""
    if len(namespaces) == 1:
        return {"namespace": namespaces[0]}
    return {"namespace": {"$in": list(namespaces)}}


@dataclass
class IndexState:
    """What the index holds, as last written by its owner."""

    model: str = ""
    dim: int = 0
    epoch: str = ""  # the store's epoch (changes on restore)
    applied_seq: int = -1
    count: int = 0
    checksum: int = 0


@dataclass
class IndexEntry:
    """One active item as the index stores it."""

    id: str
    level: str
    version: int
    vector: np.ndarray
    namespace: str = "default"


class ChromaIndex:
    """Chroma PersistentClient collections ``mem_<level>`` with cosine HNSW."""

    #: Whether the owner may apply small changes in batches (see ``memory.index_batch``):
    #: only this process queries a store folder's index, and it does so only beyond
    #: exact search. A shared server index is read by other machines: never deferred.
    deferrable = True

    def __init__(self, folder: Path, *, writable: bool) -> None:
        self.folder = folder
        self.writable = writable
        self._client: Any = None
        self._cols: dict[str, Any] = {}
        self.state = self.read_state()

    # -- plumbing -------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """True when the index folder holds a Chroma database."""
        return (self.folder / "chroma.sqlite3").is_file()

    def _connect(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings

            if self.writable:
                self.folder.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.folder),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
        return self._client

    def _col(self, level: str, *, create: bool = False) -> Any:
        col = self._cols.get(level)
        if col is not None:
            return col
        client = self._connect()
        name = self.collection_name(level)
        if self.writable:  # the owner creates collections up front: no failing lookups
            col = client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": _HNSW},
                # the vectors' model and dimension travel with them (checked on open)
                metadata={"embedding_model": self.state.model or "unset", "dim": self.state.dim},
            )
        else:
            try:
                col = client.get_collection(name, embedding_function=None)
            except Exception:  # not created yet: nothing of that level is indexed
                return None
        self._cols[level] = col
        return col

    def collection_name(self, level: str) -> str:
        """The Chroma collection of one level."""
        return f"mem_{level}"

    def close(self) -> None:
        """Release the client (Chroma persists as it goes).

        Chroma shares one system per path within a process; closing releases our
        reference so a later open (for instance after the folder was deleted) starts fresh.
        """
        self._cols.clear()
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # already released: nothing to do
                pass

    # -- state ----------------------------------------------------------------------
    def read_state(self) -> IndexState:
        """The sidecar's state, or an empty one."""
        try:
            data = json.loads((self.folder / STATE_FILE).read_text(encoding="utf-8"))
            return IndexState(**data)
        except (OSError, ValueError, TypeError):
            return IndexState()

    def write_state(self) -> None:
        """Persist the sidecar atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{STATE_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(asdict(self.state)), encoding="utf-8")
        os.replace(tmp, self.folder / STATE_FILE)

    # -- reads ----------------------------------------------------------------------
    def count(self) -> int:
        """Vectors held, over all levels."""
        if not self.exists:
            return 0
        total = 0
        for level in LEVELS:
            col = self._col(level)
            if col is not None:
                total += int(col.count())
        return total

    def entries(self) -> dict[str, Entry]:
        """Every indexed id -> (level, version, namespace) (a full scan: verify and
        repair only)."""
        out: dict[str, Entry] = {}
        if not self.exists:
            return out
        for level in LEVELS:
            col = self._col(level)
            if col is None:
                continue
            offset = 0
            while True:
                page = col.get(include=["metadatas"], limit=_GET_PAGE, offset=offset)
                ids = page["ids"]
                for item_id, meta in zip(ids, page["metadatas"] or [], strict=False):
                    out[item_id] = entry_of(level, meta)
                if len(ids) < _GET_PAGE:
                    break
                offset += _GET_PAGE
        return out

    def _versions_of(self, ids: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        if not ids:
            return found
        for level in LEVELS:
            col = self._col(level)
            if col is None:
                continue
            page = col.get(ids=list(ids), include=["metadatas"])
            for item_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                found[item_id] = entry_of(level, meta)
        return found

    def query(
        self,
        vector: np.ndarray,
        *,
        levels: Sequence[str],
        n: int,
        namespaces: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Nearest ids of ``namespaces`` (a ``where`` filter on the vectors' namespace
        metadata; None: every namespace) with cosine similarity, best first, over the
        given levels."""
        if not self.exists:
            return []
        hits: list[tuple[str, float]] = []
        for level in levels:
            col = self._col(level)
            if col is None:
                continue
            res = col.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=n,
                where=namespace_filter(namespaces) if namespaces else None,
                include=["distances"],
            )
            for item_id, dist in zip(res["ids"][0], res["distances"][0], strict=False):
                hits.append((item_id, 1.0 - float(dist)))
        hits.sort(key=lambda h: -h[1])
        return hits[:n]

    # -- writes (index owner only) ---------------------------------------------------
    def apply(self, upserts: Sequence[IndexEntry], deletes: Sequence[str]) -> None:
        """Upsert active items and drop the others, keeping count and checksum current."""
        if not upserts and not deletes:
            return
        st = self.state
        if upserts and not st.dim:  # the vectors' dimension travels with them (metadata)
            st.dim = int(upserts[0].vector.shape[0])
        touched = [e.id for e in upserts] + list(deletes)
        old = self._versions_of(touched)
        for item_id, (_level, version, namespace) in old.items():
            st.checksum ^= pair_hash(item_id, version, namespace)
            st.count -= 1
        by_level_del: dict[str, list[str]] = {}
        for item_id, (level, _v, _ns) in old.items():
            by_level_del.setdefault(level, []).append(item_id)
        for level, ids in by_level_del.items():
            col = self._col(level)
            for start in range(0, len(ids), _WRITE_BATCH):
                col.delete(ids=ids[start : start + _WRITE_BATCH])
        by_level: dict[str, list[IndexEntry]] = {}
        for e in upserts:
            by_level.setdefault(e.level, []).append(e)
        for level, entries in by_level.items():
            col = self._col(level, create=True)
            for start in range(0, len(entries), _WRITE_BATCH):
                chunk = entries[start : start + _WRITE_BATCH]
                col.add(
                    ids=[e.id for e in chunk],
                    embeddings=np.stack([e.vector for e in chunk]).astype(np.float32),
                    metadatas=[{"version": e.version, "namespace": e.namespace} for e in chunk],
                )
            for e in entries:
                st.checksum ^= pair_hash(e.id, e.version, e.namespace)
                st.count += 1

    def reset(self, *, model: str, dim: int, epoch: str) -> None:
        """Drop every collection and start empty for ``model``."""
        client = self._connect()
        for level in LEVELS:
            try:
                client.delete_collection(self.collection_name(level))
            except Exception:  # absent: nothing to drop
                pass
        self._cols.clear()
        self.state = IndexState(model=model, dim=dim, epoch=epoch, applied_seq=-1)
        self.write_state()
