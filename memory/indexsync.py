"""Keeping the derived vector indexes in step with SQLite: the Chroma index (one writer
process owns it) and the in-memory exact vectors; stored item vectors, embedded once."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence

import numpy as np
from sqlmodel import Session, col, select

from memory.core import StoreCore
from memory.errors import MemoryStoreError, ReadOnlyStore
from memory.exact import ExactIndex
from memory.index import Entry, IndexEntry, checksum
from memory.queries import (
    ACTIVE_ITEMS,
    CHANGED_SINCE,
    NAMESPACE_KEY,
    NAMESPACES,
    PURGED_SINCE,
    PUT_VECTOR,
)
from memory.records import ItemVector, MemoryItem


def text_hash(text_: str) -> str:
    """The hash stored with an item's vector: says when its text needs embedding again."""
    return hashlib.sha1(text_.encode("utf-8")).hexdigest()


def get_many(session: Session, ids: Sequence[str]) -> dict[str, MemoryItem]:
    """The items among ``ids`` that exist, by id (in chunks under SQLite's variable limit)."""
    out: dict[str, MemoryItem] = {}
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        for it in session.exec(select(MemoryItem).where(col(MemoryItem.id).in_(chunk))):
            out[it.id] = it
    return out


def purged_since(session: Session, seq: int) -> list[str]:
    """Ids of the items purged after change ``seq``."""
    return [r[0] for r in session.connection().exec_driver_sql(PURGED_SINCE, (seq,))]


class IndexSync(StoreCore):
    """The index half of the store (see memory/core.py for the layers)."""

    def _put_vectors(self, s: Session, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Store (item id, text hash, vector) rows of this store's model in ``s``."""
        s.connection().exec_driver_sql(
            PUT_VECTOR,
            [(i, self.model_id, h, v.astype(np.float32).tobytes()) for i, h, v in rows],
        )

    def _put_item_vectors(self, s: Session, rows: Sequence[tuple[MemoryItem, np.ndarray]]) -> None:
        """Store the vectors of items' current text in ``s``."""
        self._put_vectors(s, [(it.id, text_hash(it.embed_text()), v) for it, v in rows])

    def _claim_index(self) -> None:
        """Become the index writer if no other process is; then check and repair the index."""
        assert self._index_lock is not None
        if self._index_lock.held or not self._index_lock.try_acquire():
            return
        self.index.close()
        self.index = self._new_index(writable=True)
        self._check_index()

    def _changed_since(self, seq: int) -> set[str]:
        """Ids of the items changed or purged after change ``seq``."""
        with self._read() as s:
            rows = s.connection().exec_driver_sql("SELECT id FROM items WHERE seq > ?", (seq,))
            return {str(r[0]) for r in rows} | set(purged_since(s, seq))

    def _sqlite_active(self) -> dict[str, Entry]:
        with self._read() as s:
            rows = s.connection().exec_driver_sql(ACTIVE_ITEMS)
            return {r[0]: (r[1], int(r[2]), str(r[3])) for r in rows}

    def _check_index(self) -> None:
        """The cheap consistency check of open(): counts, checksum, model, epoch."""
        st = self.index.state
        with self._read() as s:
            _seq, epoch = self.db.meta(s)
        if not self.index.exists or st.model != self.model_id or st.epoch != epoch:
            why = (
                "index missing"
                if not self.index.exists
                else "embedding model changed"
                if st.model != self.model_id
                else "store restored"
            )
            self.reindex(reason=why)
            return
        self._sync_index()
        active = self._sqlite_active()
        total = checksum((i, v, ns) for i, (_l, v, ns) in active.items())
        st = self.index.state
        if st.count != len(active) or st.checksum != total or self.index.count() != len(active):
            self._repair_index(active)

    def _sync_index(self, *, defer: bool = False, persist: bool = True) -> tuple[int, str] | None:
        """Apply every change since the index's last applied change counter (owner only).

        With ``defer``, a few changes are left for later when :meth:`_may_defer` allows
        (one Chroma write of one item cost 4-30 ms here, of 50 items about the same: see
        ``memory.index_batch``); close, stats, verify and open apply what is left.

        Returns the change counter and epoch it read when nothing was left to apply or
        the rest is deferred (a search reuses them instead of reading them again: on a
        database server that is a round trip), else None.
        """
        if not self.owns_index:
            return None
        st = self.index.state
        with self._read() as s:
            seq, epoch = self.db.meta(s)
            if epoch != st.epoch:
                rows = None
            elif seq <= st.applied_seq:
                self._index_behind = False
                return seq, epoch
            elif defer and (
                self._deferred_at == (seq, epoch) or self._may_defer(s, st.applied_seq)
            ):
                # nothing changed since the last decision to wait: no need to count again
                self._index_behind, self._deferred_at = True, (seq, epoch)
                return seq, epoch
            else:
                rows = s.exec(select(MemoryItem).where(col(MemoryItem.seq) > st.applied_seq)).all()
                purged = purged_since(s, st.applied_seq)
        if rows is None:  # restored underneath us
            self.reindex(reason="store restored")
            return None
        active = [r for r in rows if r.status == "active"]
        deletes = [r.id for r in rows if r.status != "active"] + purged
        vectors = self._vectors_for(active, persist=persist)
        self.index.apply(
            [IndexEntry(r.id, r.level, r.version, vectors[r.id], r.namespace) for r in active],
            deletes,
        )
        self.index.state.applied_seq = seq
        self.index.write_state()
        self._index_behind = False
        return None

    def _may_defer(self, s: Session, applied_seq: int) -> bool:
        """Whether the changes since ``applied_seq`` may wait for a batch: a store-folder
        index, fewer than ``index_batch`` changed items, and exact search answering every
        query even with that many more items (so nothing reads the lagging index)."""
        batch = self.settings.index_batch
        limit = self.settings.exact_search_max_items
        ex = self._exact
        if not (batch and limit and self.index.deferrable) or ex is None:
            return False
        if len(ex) + batch > limit:
            return False
        conn = s.connection()
        changed = conn.exec_driver_sql(
            "SELECT count(*) FROM items WHERE seq > ?", (applied_seq,)
        ).scalar_one()
        if int(changed) >= batch:
            return False
        return int(changed) + len(purged_since(s, applied_seq)) < batch

    def _flush_index(self) -> None:
        """Apply the changes left for a batch (owner of a writable store only)."""
        if self._index_behind and not self.readonly and self.owns_index:
            self._sync_index()

    def _vectors_for(
        self, items: Sequence[MemoryItem], *, persist: bool = True
    ) -> dict[str, np.ndarray]:
        """Stored vectors of the items' current text, embedding (and storing) the missing.

        ``persist=False`` inside a write transaction (storing opens another one).
        """
        out: dict[str, np.ndarray] = {}
        if not items:
            return out
        want = {it.id: text_hash(it.embed_text()) for it in items}
        ids = list(want)
        with self._read() as s:
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                for vec in s.exec(select(ItemVector).where(col(ItemVector.item_id).in_(chunk))):
                    if vec.model == self.model_id and vec.text_hash == want[vec.item_id]:
                        out[vec.item_id] = np.frombuffer(vec.vector, dtype=np.float32)
        missing = [it for it in items if it.id not in out]
        if missing:
            embedded = self.embed_items(missing)
            for it, vec in zip(missing, embedded, strict=True):
                out[it.id] = vec
            if persist and not self.readonly:
                with self.db.write() as s:  # no index sync: this runs inside one
                    self._put_vectors(s, [(it.id, want[it.id], out[it.id]) for it in missing])
        return out

    def _repair_index(self, active: dict[str, Entry] | None = None) -> list[str]:
        """Make the index hold exactly SQLite's active items (diffing, not rebuilding)."""
        active = self._sqlite_active() if active is None else active
        indexed = self.index.entries()
        stale = [i for i, lv in active.items() if indexed.get(i) != lv]
        extra = [i for i in indexed if i not in active]
        with self._read() as s:
            seq, epoch = self.db.meta(s)
            items = get_many(s, stale)
        vectors = self._vectors_for(list(items.values()))
        self.index.apply(
            [
                IndexEntry(i, it.level, it.version, vectors[i], it.namespace)
                for i, it in items.items()
            ],
            extra,
        )
        st = self.index.state
        st.count = len(active)
        st.checksum = checksum((i, v, ns) for i, (_l, v, ns) in active.items())
        st.applied_seq, st.epoch, st.model = seq, epoch, self.model_id
        self.index.write_state()
        note = f"index repaired: {len(stale)} upserted, {len(extra)} removed"
        self.repairs.append(note)
        return [note]

    def reindex(self, *, reason: str = "requested") -> int:
        """Rebuild the Chroma index from SQLite (re-embedding only what has no stored vector)."""
        if self.readonly:
            raise ReadOnlyStore("reindex needs a writable store")
        self._claim_index()
        if not self.owns_index:
            raise MemoryStoreError(
                "another process owns this store's index; close it and run reindex again"
            )
        with self.db.locked():
            with self._read() as s:
                seq, epoch = self.db.meta(s)
            dim = int(getattr(self.embedder, "dim", 0)) if self._embedder else 0
            self.index.reset(model=self.model_id, dim=dim, epoch=epoch)
            with self._read() as s:
                items = s.exec(select(MemoryItem).where(MemoryItem.status == "active")).all()
            for start in range(0, len(items), 5000):
                chunk = items[start : start + 5000]
                vectors = self._vectors_for(chunk)
                self.index.apply(
                    [
                        IndexEntry(i.id, i.level, i.version, vectors[i.id], i.namespace)
                        for i in chunk
                    ],
                    [],
                )
            self.index.state.applied_seq = seq
            self.index.write_state()
            self.repairs.append(f"index rebuilt ({reason}): {len(items)} items")
            return len(items)

    def _maybe_sync(self) -> tuple[int, str] | None:
        """Bring the index up to date when this process owns it (or can take it over);
        the change counter and epoch when it read them and found nothing to apply."""
        if self.readonly:
            return None
        if not self.owns_index:
            self._claim_index()  # the previous owner may have gone
        return self._sync_index(defer=True)

    def _nearest(
        self,
        vec: np.ndarray,
        *,
        levels: Sequence[str],
        n: int,
        persist: bool = True,
        session: Session | None = None,
        meta: tuple[int, str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Most similar active items of ``namespaces`` (default: the readable ones): exact
        in memory up to ``exact_search_max_items`` active items (see memory/exact.py for
        why), else Chroma's HNSW."""
        names = self.view.read if namespaces is None else namespaces
        limit = self.settings.exact_search_max_items
        if limit:
            exact = self._refresh_exact(persist=persist, session=session, meta=meta)
            if len(exact) <= limit:
                return exact.query(vec, levels=levels, n=n, namespaces=names)
            self._exact = None  # too big to hold: free it
        # Chroma filters on the vectors' namespace metadata only when the store holds
        # another namespace: a ``where`` costs HNSW a metadata scan (callers check each
        # hit's namespace again, so a stale list costs recall, never isolation)
        if self._index_behind and not self.readonly and self.owns_index:
            # grown past exact search with changes still waiting (several items in one
            # write): the index answers from now on, so it must hold them
            self._sync_index(persist=persist)
        held = self._namespaces_held(session)
        where = None if held <= set(names) else names
        return self.index.query(vec, levels=levels, n=n, namespaces=where)

    def _namespaces_held(self, session: Session | None = None) -> set[str]:
        """The namespaces any item was ever written in."""
        with contextlib.ExitStack() as stack:
            s = session if session is not None else stack.enter_context(self._read())
            rows = s.connection().exec_driver_sql(NAMESPACES)
            return {str(r[0])[len(NAMESPACE_KEY) :] for r in rows}

    def _refresh_exact(
        self,
        *,
        persist: bool,
        session: Session | None = None,
        meta: tuple[int, str] | None = None,
    ) -> ExactIndex:
        """Bring the in-memory vectors up to the store's change counter (reading in
        ``session`` when given: its snapshot, no transaction of its own; ``meta``: the
        counter and epoch just read, which are then not read again)."""
        with contextlib.ExitStack() as stack:
            s = session if session is not None else stack.enter_context(self._read())
            seq, epoch = meta if meta is not None else self.db.meta(s)
            ex = self._exact
            if ex is not None and ex.epoch == epoch and ex.seq == seq:
                return ex
            if ex is None or ex.epoch != epoch:
                ex = ExactIndex(dim=int(getattr(self._embedder, "dim", 0) or 0))
                ex.epoch = epoch
            rows = s.connection().exec_driver_sql(CHANGED_SINCE, (ex.seq,)).fetchall()
            purged = purged_since(s, ex.seq)
        missing: list[str] = []
        for item_id, level, status, blob, model, namespace in rows:
            if status != "active":
                ex.drop(item_id)
            elif blob is None or model != self.model_id:
                missing.append(item_id)
            else:
                vec = np.frombuffer(blob, dtype=np.float32)
                if not ex.dim:
                    ex.dim = int(vec.shape[0])
                ex.put(item_id, level, vec, namespace)
        for item_id in purged:
            ex.drop(item_id)
        if missing:
            with self._read() as s:
                found = get_many(s, missing)
            items = [found[i] for i in missing if i in found]
            vectors = self._vectors_for(items, persist=persist and not self.readonly)
            for it in items:
                if not ex.dim:
                    ex.dim = int(vectors[it.id].shape[0])
                ex.put(it.id, it.level, vectors[it.id], it.namespace)
        ex.seq = seq
        self._exact = ex
        return ex
