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
counter, other processes') to it. Read-only stores take no lock and never write Chroma.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, event, or_, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from memory import curation, gate
from memory.embeddings import (
    FIELDS_SUFFIX,
    Embedder,
    build_embedder,
    embed_fields,
    minilm_model_id,
)
from memory.errors import (
    InvalidInput,
    ItemNotFound,
    MemoryStoreError,
    ReadOnlyStore,
    StoreCorrupt,
)
from memory.exact import ExactIndex
from memory.index import ChromaIndex, IndexEntry, checksum
from memory.records import (
    LEVELS,
    STATUSES,
    TEXT_FIELDS,
    TRUSTS,
    AuditEntry,
    Episode,
    ItemVector,
    ItemVersion,
    MemoryItem,
    new_episode_id,
    new_item_id,
    now,
)
from memory.redact import redact
from memory.retrieval import (
    Hit,
    estimate_tokens,
    fts_query,
    fts_terms,
    fusion_prior,
    lexical_bonus,
    match_expr,
    pack,
    suppress_duplicates,
    utility_factor,
)
from memory.schema import SCHEMA_VERSION, migrate, read_version
from memory.settings import MemorySettings

DB_FILE = "memory.db"
INDEX_DIR = "index"
SNAPSHOT_DIR = "snapshots"
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SCOPE = re.compile(r"^[A-Za-z0-9_.:@-]+(/[A-Za-z0-9_.:@-]+)*$")
_QUICK_CHECK_MAX_BYTES = 64 << 20
_DUPLICATE_HIT = 0.97


@dataclass
class WriteResult:
    """What the write gate did with a proposal."""

    action: str  # created | merged | superseded | candidate | rejected
    item: MemoryItem | None
    reason: str
    superseded: MemoryItem | None = None
    redactions: int = 0


@dataclass
class VerifyReport:
    """The outcome of :meth:`MemoryStore.verify`."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    items: int = 0
    active: int = 0
    indexed: int = 0

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "problems": self.problems,
            "repaired": self.repaired,
            "items": self.items,
            "active": self.active,
            "indexed": self.indexed,
        }


def _text_hash(text_: str) -> str:
    return hashlib.sha1(text_.encode("utf-8")).hexdigest()


def _model_id_of(settings: MemorySettings, embedder: Embedder | None = None) -> str:
    """The id stored with item vectors: the embedding model's, marked as field vectors."""
    if embedder is not None:
        base = embedder.model_id
    elif settings.embedder == "minilm-onnx":
        base = minilm_model_id(settings.embedding_compute)
    else:
        base = f"openai:{settings.embedding_model}"
    return base + FIELDS_SUFFIX


def _is_corruption(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return any(
        s in msg
        for s in ("malformed", "not a database", "file is encrypted", "disk image", "corrupt")
    )


def _make_engine(db: Path, *, readonly: bool, busy_ms: int) -> Engine:
    url = f"sqlite:///file:{db}?mode=ro&uri=true" if readonly else f"sqlite:///{db}"
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
        pool_size=4,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (see the module docstring).
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


class MemoryStore:
    """The hierarchical experience memory. Open with :meth:`open`; use as a context manager."""

    def __init__(
        self,
        path: Path,
        *,
        settings: MemorySettings,
        readonly: bool,
        embedder: Embedder | None,
    ) -> None:
        from memory._lock import FileLock

        self.path = path
        self.settings = settings
        self.readonly = readonly
        self._embedder = embedder
        self.model_id = _model_id_of(settings, embedder)
        self._last_query: tuple[str, np.ndarray] | None = None  # recall asks twice
        self.db_path = path / DB_FILE
        busy_ms = int(max(settings.lock_timeout_s, 1.0) * 1000)
        self._engine = _make_engine(self.db_path, readonly=readonly, busy_ms=busy_ms)
        self._write_engine = self._engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write_lock = FileLock(path / "write.lock") if not readonly else None
        self._index_lock = FileLock(path / "index.lock") if not readonly else None
        self.index = ChromaIndex(path / INDEX_DIR, writable=False)
        self._exact: ExactIndex | None = None
        self._closed = False
        self.repairs: list[str] = []  # what open() repaired, for the user to see

    # ---------------------------------------------------------------- lifecycle
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
            if not (folder / DB_FILE).is_file():
                raise ItemNotFound(f"no memory store at {folder} (nothing to open read-only)")
        else:
            folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, settings=settings, readonly=readonly, embedder=embedder)
        try:
            store._check_file()
            store._prepare_schema()
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

    def close(self) -> None:
        """Release locks and connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.index.close()
        self._engine.dispose()
        for lock in (self._write_lock, self._index_lock):
            if lock is not None:
                lock.close()

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded at first use (listing and stats never need it)."""
        if self._embedder is None:
            self._embedder = build_embedder(self.settings)
            self.model_id = _model_id_of(self.settings, self._embedder)
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

    # ---------------------------------------------------------------- plumbing
    def _check_file(self) -> None:
        db = self.db_path
        if db.exists() and db.stat().st_size:
            with db.open("rb") as fh:
                head = fh.read(16)
            if head != b"SQLite format 3\x00":
                raise StoreCorrupt(
                    f"{db} is not an SQLite database (damaged or overwritten); restore a "
                    "snapshot with `journeyman memory restore NAME` or move the file away"
                )

    def _corrupt(self, exc: BaseException) -> StoreCorrupt:
        return StoreCorrupt(
            f"{self.db_path} is damaged ({exc}); restore a snapshot with "
            "`journeyman memory restore NAME`, or recover with `sqlite3 memory.db .recover`"
        )

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine, expire_on_commit=False) as session, session.begin():
                yield session
                session.expunge_all()
        except (OperationalError, SADatabaseError) as exc:
            if _is_corruption(exc):
                raise self._corrupt(exc) from exc
            raise

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction under the cross-process writer lock; syncs the index after."""
        if self.readonly or self._write_lock is None:
            raise ReadOnlyStore("this memory store was opened read-only")
        if self._closed:
            raise MemoryStoreError("the memory store is closed")
        self._write_lock.acquire(timeout=self.settings.lock_timeout_s)
        try:
            try:
                with Session(self._write_engine, expire_on_commit=False) as session:
                    with session.begin():
                        yield session
                    session.expunge_all()
            except (OperationalError, SADatabaseError) as exc:
                if _is_corruption(exc):
                    raise self._corrupt(exc) from exc
                raise
            self._sync_index()
        finally:
            self._write_lock.release()

    @staticmethod
    def _bump_seq(session: Session) -> int:
        row = session.connection().exec_driver_sql(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq' RETURNING value"
        )
        return int(row.scalar_one())

    def _meta(self, session: Session) -> tuple[int, str]:
        rows: dict[str, str] = {
            str(k): str(v)
            for k, v in session.connection().exec_driver_sql("SELECT key, value FROM meta")
        }
        return int(rows.get("seq", 0)), str(rows.get("epoch", ""))

    def _prepare_schema(self) -> None:
        try:
            if self.readonly:
                with self._read() as s:
                    version = read_version(s.connection())
                if version > SCHEMA_VERSION:
                    migrate_msg = (
                        f"this memory store has schema version {version}, newer than this "
                        f"journeyman understands ({SCHEMA_VERSION}); upgrade journeyman to open it"
                    )
                    from memory.errors import SchemaTooNew

                    raise SchemaTooNew(migrate_msg)
                if version < SCHEMA_VERSION:
                    raise InvalidInput(
                        f"this memory store has schema version {version}; open it once "
                        "writable to migrate it"
                    )
            else:
                assert self._write_lock is not None
                self._write_lock.acquire(timeout=self.settings.lock_timeout_s)
                try:
                    with Session(self._write_engine) as s, s.begin():
                        before, after = migrate(s.connection())
                        if before != after:
                            s.add(
                                AuditEntry(
                                    action="migrate", actor="system", detail=f"{before}->{after}"
                                )
                            )
                finally:
                    self._write_lock.release()
            if self.db_path.stat().st_size <= _QUICK_CHECK_MAX_BYTES:
                with self._read() as s:
                    res = s.connection().exec_driver_sql("PRAGMA quick_check(1)").scalar_one()
                if res != "ok":
                    raise self._corrupt(RuntimeError(str(res)))
        except (OperationalError, SADatabaseError) as exc:
            raise self._corrupt(exc) from exc

    # ---------------------------------------------------------------- index sync
    def _claim_index(self) -> None:
        """Become the index writer if no other process is; then check and repair the index."""
        assert self._index_lock is not None
        if self._index_lock.held or not self._index_lock.try_acquire():
            return
        self.index.close()
        self.index = ChromaIndex(self.path / INDEX_DIR, writable=True)
        self._check_index()

    def _sqlite_active(self) -> dict[str, tuple[str, int]]:
        with self._read() as s:
            rows = s.connection().exec_driver_sql(
                "SELECT id, level, version FROM items WHERE status = 'active'"
            )
            return {r[0]: (r[1], int(r[2])) for r in rows}

    def _check_index(self) -> None:
        """The cheap consistency check of open(): counts, checksum, model, epoch."""
        st = self.index.state
        with self._read() as s:
            _seq, epoch = self._meta(s)
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
        total = checksum((i, v) for i, (_l, v) in active.items())
        st = self.index.state
        if st.count != len(active) or st.checksum != total or self.index.count() != len(active):
            self._repair_index(active)

    def _sync_index(self) -> None:
        """Apply every change since the index's last applied change counter (owner only)."""
        if not self.owns_index:
            return
        st = self.index.state
        with self._read() as s:
            seq, epoch = self._meta(s)
            if epoch != st.epoch:
                rows = None
            elif seq <= st.applied_seq:
                return
            else:
                rows = s.exec(select(MemoryItem).where(col(MemoryItem.seq) > st.applied_seq)).all()
                purged = [
                    r[0]
                    for r in s.connection().exec_driver_sql(
                        "SELECT item_id FROM audit_log WHERE action = 'purge' AND seq > ?",
                        (st.applied_seq,),
                    )
                ]
        if rows is None:  # restored underneath us
            self.reindex(reason="store restored")
            return
        active = [r for r in rows if r.status == "active"]
        deletes = [r.id for r in rows if r.status != "active"] + purged
        vectors = self._vectors_for(active)
        self.index.apply(
            [IndexEntry(r.id, r.level, r.version, vectors[r.id]) for r in active], deletes
        )
        self.index.state.applied_seq = seq
        self.index.write_state()

    def _vectors_for(
        self, items: Sequence[MemoryItem], *, persist: bool = True
    ) -> dict[str, np.ndarray]:
        """Stored vectors of the items' current text, embedding (and storing) the missing.

        ``persist=False`` inside a write transaction (storing opens another one).
        """
        out: dict[str, np.ndarray] = {}
        if not items:
            return out
        want = {it.id: _text_hash(it.embed_text()) for it in items}
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
                self._store_vectors([(it.id, want[it.id], out[it.id]) for it in missing])
        return out

    def _store_vectors(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        assert self._write_lock is not None
        self._write_lock.acquire(timeout=self.settings.lock_timeout_s)
        try:
            with Session(self._write_engine) as s, s.begin():
                s.connection().exec_driver_sql(
                    "INSERT OR REPLACE INTO item_vectors(item_id, model, text_hash, vector) "
                    "VALUES (?, ?, ?, ?)",
                    [(i, self.model_id, h, v.astype(np.float32).tobytes()) for i, h, v in rows],
                )
        finally:
            self._write_lock.release()

    def _repair_index(self, active: dict[str, tuple[str, int]] | None = None) -> list[str]:
        """Make the index hold exactly SQLite's active items (diffing, not rebuilding)."""
        active = self._sqlite_active() if active is None else active
        indexed = self.index.entries()
        stale = [i for i, lv in active.items() if indexed.get(i) != lv]
        extra = [i for i in indexed if i not in active]
        with self._read() as s:
            seq, epoch = self._meta(s)
            items = self._get_many(s, stale)
        vectors = self._vectors_for(list(items.values()))
        self.index.apply(
            [IndexEntry(i, it.level, it.version, vectors[i]) for i, it in items.items()], extra
        )
        st = self.index.state
        st.count = len(active)
        st.checksum = checksum((i, v) for i, (_l, v) in active.items())
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
        assert self._write_lock is not None
        self._write_lock.acquire(timeout=self.settings.lock_timeout_s)
        try:
            with self._read() as s:
                seq, epoch = self._meta(s)
            dim = int(getattr(self.embedder, "dim", 0)) if self._embedder else 0
            self.index.reset(model=self.model_id, dim=dim, epoch=epoch)
            with self._read() as s:
                items = s.exec(select(MemoryItem).where(MemoryItem.status == "active")).all()
            for start in range(0, len(items), 5000):
                chunk = items[start : start + 5000]
                vectors = self._vectors_for(chunk)
                self.index.apply(
                    [IndexEntry(i.id, i.level, i.version, vectors[i.id]) for i in chunk], []
                )
            self.index.state.applied_seq = seq
            self.index.write_state()
            self.repairs.append(f"index rebuilt ({reason}): {len(items)} items")
            return len(items)
        finally:
            self._write_lock.release()

    def _maybe_sync(self) -> None:
        if self.readonly:
            return
        if not self.owns_index:
            self._claim_index()  # the previous owner may have gone
        self._sync_index()

    # ---------------------------------------------------------------- reads
    @staticmethod
    def _get_many(session: Session, ids: Sequence[str]) -> dict[str, MemoryItem]:
        out: dict[str, MemoryItem] = {}
        for start in range(0, len(ids), 900):
            chunk = list(ids[start : start + 900])
            for it in session.exec(select(MemoryItem).where(col(MemoryItem.id).in_(chunk))):
                out[it.id] = it
        return out

    def get(self, item_id: str) -> MemoryItem:
        """The item with that id (any status); raises :class:`ItemNotFound`."""
        with self._read() as s:
            it = s.exec(select(MemoryItem).where(MemoryItem.id == item_id)).first()
        if it is None:
            raise ItemNotFound(f"no memory item {item_id!r}")
        return it

    def get_many(self, ids: Sequence[str]) -> list[MemoryItem]:
        """The items that exist among ``ids``, in that order."""
        with self._read() as s:
            found = self._get_many(s, ids)
        return [found[i] for i in ids if i in found]

    def find_by_title(self, title: str, *, level: str | None = None) -> MemoryItem | None:
        """The most recent item whose title matches case-insensitively (non-retired first)."""
        with self._read() as s:
            q = select(MemoryItem).where(
                text("lower(items.title) = :t").bindparams(t=title.strip().lower())
            )
            if level:
                q = q.where(MemoryItem.level == _check_level(level))
            rows = list(s.exec(q))
        rows.sort(key=lambda r: (r.status != "retired", r.updated_at), reverse=True)
        return rows[0] if rows else None

    def list_items(
        self,
        *,
        level: str | None = None,
        status: str | None = None,
        scope: str | None = None,
        trust: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[MemoryItem]:
        """Items filtered by level, status, scope prefix and trust, newest first."""
        with self._read() as s:
            q = select(MemoryItem)
            if level:
                q = q.where(MemoryItem.level == _check_level(level))
            if status:
                q = q.where(MemoryItem.status == _check_choice(status, STATUSES, "status"))
            if trust:
                q = q.where(MemoryItem.trust == _check_choice(trust, TRUSTS, "trust"))
            if scope:
                q = q.where(
                    or_(
                        col(MemoryItem.scope) == scope,
                        col(MemoryItem.scope).startswith(scope + "/"),
                    )
                )
            q = q.order_by(col(MemoryItem.updated_at).desc()).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return list(s.exec(q))

    def history(self, item_id: str) -> list[ItemVersion]:
        """Every version of the item, oldest first."""
        with self._read() as s:
            rows = list(
                s.exec(
                    select(ItemVersion)
                    .where(ItemVersion.item_id == item_id)
                    .order_by(col(ItemVersion.version))
                )
            )
        if not rows:
            self.get(item_id)  # raises ItemNotFound
        return rows

    def search(
        self,
        query: str,
        *,
        level: str | Sequence[str] | None = None,
        scope: str | None = None,
        k: int = 5,
        status: str = "active",
        trust: str | None = None,
        budget_tokens: int | None = None,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """Hybrid search, best first: cosine similarity to the item vectors plus a bonus for
        BM25's best match in proportion to its lead, re-ranked by utility, near-duplicates
        dropped, packed into ``budget_tokens`` (when given).

        ``mode`` is ``hybrid``, ``vector`` or ``bm25`` (the last two for baselines).
        """
        if not query.strip():
            raise InvalidInput("empty search query")
        if mode not in ("hybrid", "vector", "bm25"):
            raise InvalidInput(f"unknown search mode {mode!r}")
        levels = _levels(level)
        _check_choice(status, STATUSES, "status")
        if trust:
            _check_choice(trust, TRUSTS, "trust")
        self._maybe_sync()
        pool = max(self.settings.candidate_pool, 4 * k) * (4 if scope else 1)
        vec_rank: list[str] = []
        vec_score: dict[str, float] = {}
        bm_rank: list[str] = []
        bm_score: dict[str, float] = {}
        qv = self._query_vector(query) if mode != "bm25" and status == "active" else None
        hits: list[Hit] = []
        vectors: dict[str, np.ndarray] = {}
        # one read transaction for the whole search: the exact index's freshness check,
        # BM25 and the candidate rows (each transaction costs ~0.3 ms of Python here)
        with self._read() as s:
            if qv is not None:
                try:
                    for item_id, sim in self._nearest(qv, levels=levels, n=pool, session=s):
                        vec_rank.append(item_id)
                        vec_score[item_id] = sim
                except Exception:  # an unreadable index degrades to BM25, never fails a search
                    if self.owns_index:
                        raise
            if mode != "vector":
                match = match_expr(self._selective_terms(s, fts_terms(query)))
                if match:
                    for item_id, score in self._bm25(s, match, status, levels, scope, pool):
                        bm_rank.append(item_id)
                        bm_score[item_id] = -float(score)
            bonus = lexical_bonus(bm_rank, bm_score, weight=self.settings.lexical_weight)
            prior = fusion_prior(vec_rank, vec_score, bm_rank, bm_score, bonus)
            ranked = sorted(prior, key=lambda i: -prior[i])
            vec_pos = {i: n for n, i in enumerate(vec_rank, start=1)}
            bm_pos = {i: n for n, i in enumerate(bm_rank, start=1)}
            # ``prior`` bounds each candidate's score from above, so the head of its ranking
            # is enough; fetch further only when filters leave too few hits.
            step = max(4 * k, 20)
            for start in range(0, len(ranked), step):
                chunk = ranked[start : start + step]
                rows = s.exec(
                    select(MemoryItem, ItemVector.vector, ItemVector.model)
                    .outerjoin(ItemVector, col(ItemVector.item_id) == col(MemoryItem.id))
                    .where(col(MemoryItem.id).in_(chunk))
                ).all()
                for it, blob, model in rows:
                    if it.status != status or it.level not in levels:
                        continue
                    if scope and not (it.scope == scope or it.scope.startswith(scope + "/")):
                        continue
                    if trust and it.trust != trust:
                        continue
                    if blob is not None and model == self.model_id:
                        vectors[it.id] = np.frombuffer(blob, dtype=np.float32)
                    cos = vec_score.get(it.id)
                    if cos is None and qv is not None and it.id in vectors:
                        cos = float(vectors[it.id] @ qv)  # found by BM25 alone
                    if qv is None:  # no vectors (BM25 mode, non-active items): BM25 order
                        base = prior[it.id]
                    else:
                        base = (cos or 0.0) + bonus.get(it.id, 0.0)
                    hits.append(
                        Hit(
                            item=it,
                            score=max(base, 0.0) * utility_factor(it),
                            vector_score=cos,
                            bm25_score=bm_score.get(it.id),
                            vector_rank=vec_pos.get(it.id),
                            bm25_rank=bm_pos.get(it.id),
                        )
                    )
                if len(hits) >= 2 * k:
                    break
        hits.sort(key=lambda h: -h.score)
        top = suppress_duplicates(hits, vectors, threshold=_DUPLICATE_HIT)
        return pack(top, budget_tokens=budget_tokens, k=k)

    @staticmethod
    def _bm25(
        s: Session,
        match: str,
        status: str,
        levels: Sequence[str],
        scope: str | None,
        limit: int,
    ) -> list[tuple[str, float]]:
        """BM25 ranking (FTS5 scores: lower is better) of the items matching ``match``."""
        sql = (
            "SELECT items.id, bm25(items_fts, 8.0, 4.0, 1.0, 2.0, 1.0) AS s "
            "FROM items_fts JOIN items ON items.pk = items_fts.rowid "
            "WHERE items_fts MATCH ? AND items.status = ?"
        )
        params: list[Any] = [match, status]
        if len(levels) < len(LEVELS):
            sql += f" AND items.level IN ({','.join('?' * len(levels))})"
            params += list(levels)
        if scope:
            sql += " AND (items.scope = ? OR items.scope LIKE ?)"
            params += [scope, scope.replace("%", r"\%") + "/%"]
        sql += " ORDER BY s LIMIT ?"
        params.append(limit)
        rows = s.connection().exec_driver_sql(sql, tuple(params))
        return [(str(r[0]), float(r[1])) for r in rows]

    def _nearest(
        self,
        vec: np.ndarray,
        *,
        levels: Sequence[str],
        n: int,
        persist: bool = True,
        session: Session | None = None,
    ) -> list[tuple[str, float]]:
        """Most similar active items: exact in memory up to ``exact_search_max_items``
        active items (see memory/exact.py for why), else Chroma's HNSW."""
        limit = self.settings.exact_search_max_items
        if limit:
            exact = self._refresh_exact(persist=persist, session=session)
            if len(exact) <= limit:
                return exact.query(vec, levels=levels, n=n)
            self._exact = None  # too big to hold: free it
        return self.index.query(vec, levels=levels, n=n)

    def _refresh_exact(self, *, persist: bool, session: Session | None = None) -> ExactIndex:
        """Bring the in-memory vectors up to the store's change counter (reading in
        ``session`` when given: its snapshot, no transaction of its own)."""
        with contextlib.ExitStack() as stack:
            s = session if session is not None else stack.enter_context(self._read())
            seq, epoch = self._meta(s)
            ex = self._exact
            if ex is not None and ex.epoch == epoch and ex.seq == seq:
                return ex
            if ex is None or ex.epoch != epoch:
                ex = ExactIndex(dim=int(getattr(self._embedder, "dim", 0) or 0))
                ex.epoch = epoch
            conn = s.connection()
            rows = conn.exec_driver_sql(
                "SELECT i.id, i.level, i.status, v.vector, v.model FROM items i "
                "LEFT JOIN item_vectors v ON v.item_id = i.id WHERE i.seq > ?",
                (ex.seq,),
            ).fetchall()
            purged = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT item_id FROM audit_log WHERE action = 'purge' AND seq > ?", (ex.seq,)
                )
            ]
        missing: list[str] = []
        for item_id, level, status, blob, model in rows:
            if status != "active":
                ex.drop(item_id)
            elif blob is None or model != self.model_id:
                missing.append(item_id)
            else:
                vec = np.frombuffer(blob, dtype=np.float32)
                if not ex.dim:
                    ex.dim = int(vec.shape[0])
                ex.put(item_id, level, vec)
        for item_id in purged:
            ex.drop(item_id)
        if missing:
            items = self.get_many(missing)
            vectors = self._vectors_for(items, persist=persist and not self.readonly)
            for it in items:
                if not ex.dim:
                    ex.dim = int(vectors[it.id].shape[0])
                ex.put(it.id, it.level, vectors[it.id])
        ex.seq = seq
        self._exact = ex
        return ex

    def _selective_terms(self, s: Session, terms: list[str]) -> list[str]:
        """Drop query terms that occur in more than max(1000, 3%) of the store's items.

        BM25 ranks every row a term matches; a common word ("report") in a 100k store
        matches tens of thousands and costs tens of milliseconds while adding almost
        nothing to the ranking (its IDF is near zero). At 10k items one word found in
        nearly every item cost ~5 ms of a search (the slowest tenth of the benchmark's
        queries), so stores over 1000 items are checked too. Counting stops at the cap.
        """
        if len(terms) <= 1:
            return terms
        conn = s.connection()
        total = int(conn.exec_driver_sql("SELECT coalesce(max(pk), 0) FROM items").scalar_one())
        if total <= 1000:  # no term can occur in more than the cap
            return terms
        cap = max(1000, total * 3 // 100)
        kept = []
        for term in terms:
            n = conn.exec_driver_sql(
                "SELECT count(*) FROM (SELECT rowid FROM items_fts WHERE items_fts MATCH ? LIMIT ?)",
                (f'"{term}"', cap + 1),
            ).scalar_one()
            if n <= cap:
                kept.append(term)
        return kept

    def strategic(
        self, budget_tokens: int | None = None, scopes: Sequence[str] | None = None
    ) -> list[Hit]:
        """Always-on lessons: active strategic items in ``scopes`` (prefixes; ``global``
        always included), best utility first, up to the first that would overflow the token
        budget (a lesson larger than the whole budget is passed over)."""
        budget = self.settings.strategic_budget_tokens if budget_tokens is None else budget_tokens
        sql = "SELECT id FROM items WHERE level = 'strategic' AND status = 'active'"
        params: list[Any] = []
        if scopes:
            conds = ["scope = 'global'"]
            for sc in scopes:
                conds.append("(scope = ? OR scope LIKE ?)")
                params += [sc, sc + "/%"]
            sql += " AND (" + " OR ".join(conds) + ")"
        sql += (
            " ORDER BY (success + 1.0) / (success + failure + 2.0) DESC, updated_at DESC LIMIT 400"
        )
        with self._read() as s:
            ids = [r[0] for r in s.connection().exec_driver_sql(sql, tuple(params))]

            def best_first() -> Iterator[Hit]:
                for start in range(0, len(ids), 16):
                    chunk = ids[start : start + 16]
                    items = self._get_many(s, chunk)
                    yield from (
                        Hit(item=items[i], score=items[i].utility) for i in chunk if i in items
                    )

            # only the head that fits is loaded (loading and sizing all 400 candidates was
            # most of a recall's cost at 10k items)
            return pack(best_first(), budget_tokens=budget, stop_at_overflow=True)

    def procedures(self, task: str, *, k: int = 5, scope: str | None = None) -> list[Hit]:
        """SOPs similar to a task, within the procedural token budget."""
        return self.search(
            task,
            level="procedural",
            scope=scope,
            k=k,
            budget_tokens=self.settings.procedural_budget_tokens,
        )

    def tool_tips(
        self, tools: Sequence[str], *, budget_tokens: int | None = None
    ) -> dict[str, list[MemoryItem]]:
        """Active tool tips per tool name (scope ``tool/<name>``), best utility first,
        each tool's tips within ``budget_tokens``."""
        budget = self.settings.tool_tip_budget_tokens if budget_tokens is None else budget_tokens
        names = list(dict.fromkeys(tools))
        if not names:
            return {}
        scope = col(MemoryItem.scope)
        scopes = [c for n in names for c in (scope == f"tool/{n}", scope.startswith(f"tool/{n}/"))]
        with self._read() as s:
            # one query for all the tools (one per tool cost ~1 ms each at 10k items)
            rows = s.exec(
                select(MemoryItem)
                .where(MemoryItem.level == "tool", MemoryItem.status == "active")
                .where(or_(*scopes))
                .order_by(
                    text("(success + 1.0) / (success + failure + 2.0) DESC"),
                    col(MemoryItem.updated_at).desc(),
                )
            ).all()
        by_tool: dict[str, list[MemoryItem]] = {n: [] for n in names}
        for row in rows:  # scope is tool/<name>[/...]
            tips = by_tool.get(row.scope.split("/")[1])
            if tips is not None and len(tips) < 50:
                tips.append(row)
        return {
            name: [
                h.item
                for h in pack([Hit(item=r, score=r.utility) for r in tips], budget_tokens=budget)
            ]
            for name, tips in by_tool.items()
        }

    def similar_episodes(self, task: str, *, k: int = 3) -> list[Hit]:
        """Past episodes similar to a task (episodic items)."""
        return self.search(
            task, level="episodic", k=k, budget_tokens=self.settings.episodic_budget_tokens
        )

    def get_episode(self, episode_id: str) -> Episode:
        """An archived episode; raises :class:`ItemNotFound`."""
        with self._read() as s:
            ep = s.exec(select(Episode).where(Episode.id == episode_id)).first()
        if ep is None:
            raise ItemNotFound(f"no episode {episode_id!r}")
        return ep

    def episodes(self, *, limit: int = 50) -> list[Episode]:
        """Most recent episodes first."""
        with self._read() as s:
            return list(
                s.exec(select(Episode).order_by(col(Episode.created_at).desc()).limit(limit))
            )

    def stats(self) -> dict[str, Any]:
        """Counts by level and status, trust, episodes, versions, index and file sizes."""
        with self._read() as s:
            conn = s.connection()
            by = [
                (lvl, st, int(n))
                for lvl, st, n in conn.exec_driver_sql(
                    "SELECT level, status, count(*) FROM items GROUP BY level, status"
                )
            ]
            trust: dict[str, int] = {
                str(t): int(n)
                for t, n in conn.exec_driver_sql("SELECT trust, count(*) FROM items GROUP BY trust")
            }
            episodes = conn.exec_driver_sql("SELECT count(*) FROM episodes").scalar_one()
            versions = conn.exec_driver_sql("SELECT count(*) FROM item_versions").scalar_one()
            seq, epoch = self._meta(s)
            version = read_version(conn)
        levels: dict[str, dict[str, int]] = {lv: dict.fromkeys(STATUSES, 0) for lv in LEVELS}
        for lvl, st, n in by:
            levels.setdefault(lvl, dict.fromkeys(STATUSES, 0))[st] = n
        st_ = self.index.read_state()
        return {
            "path": str(self.path),
            "schema_version": version,
            "items": sum(n for _l, _s, n in by),
            "active": sum(n for _l, s_, n in by if s_ == "active"),
            "levels": levels,
            "trust": {t: int(trust.get(t, 0)) for t in TRUSTS},
            "episodes": int(episodes),
            "versions": int(versions),
            "changes": seq,
            "index": {
                "model": st_.model,
                "count": st_.count,
                "applied_changes": st_.applied_seq,
                "in_sync": st_.applied_seq == seq and st_.epoch == epoch,
            },
            "db_bytes": self.db_path.stat().st_size if self.db_path.exists() else 0,
        }

    def tree(self) -> list[dict[str, Any]]:
        """Scopes with item counts per level (active items), sorted by scope."""
        with self._read() as s:
            rows = s.connection().exec_driver_sql(
                "SELECT scope, level, count(*) FROM items WHERE status = 'active' "
                "GROUP BY scope, level ORDER BY scope"
            )
            out: dict[str, dict[str, int]] = {}
            for scope, level, n in rows:
                out.setdefault(scope, {})[level] = int(n)
        return [{"scope": sc, "counts": counts} for sc, counts in out.items()]

    # ---------------------------------------------------------------- writes
    def _new_item(self, rec: dict[str, Any], *, actor: str) -> tuple[MemoryItem, int]:
        level = _check_level(str(rec.get("level", "")))
        scope = _check_scope(str(rec.get("scope") or "global"))
        fields: dict[str, Any] = {}
        redactions = 0
        for name in ("title", "when_to_use", "content"):
            fields[name], n = redact(str(rec.get(name) or "").strip())
            redactions += n
        if not fields["title"]:
            raise InvalidInput("a memory item needs a title")
        if not fields["content"]:
            raise InvalidInput(f"memory item {fields['title']!r} has no content")
        tags = sorted({redact(str(t).strip())[0] for t in rec.get("tags") or () if str(t).strip()})
        status = _check_choice(str(rec.get("status") or "active"), STATUSES, "status")
        trust = _check_choice(str(rec.get("trust") or "trusted"), TRUSTS, "trust")
        prov = dict(rec.get("provenance") or {})
        item_id = str(rec.get("id") or new_item_id(level))
        item = MemoryItem(
            id=item_id,
            level=level,
            scope=scope,
            tags=tags,
            status=status,
            trust=trust,
            prov_episode=_opt(prov.get("episode", rec.get("prov_episode"))),
            prov_subtask=_opt(prov.get("subtask", rec.get("prov_subtask"))),
            prov_model=_opt(prov.get("model", rec.get("prov_model"))),
            prov_source=_opt(prov.get("source", rec.get("prov_source"))),
            prov_actor=str(prov.get("actor") or rec.get("prov_actor") or actor),
            corroborations=list(rec.get("corroborations") or []),
            supersedes=_opt(rec.get("supersedes")),
            superseded_by=_opt(rec.get("superseded_by")),
            retrieved=int(rec.get("retrieved") or 0),
            success=int(rec.get("success") or 0),
            failure=int(rec.get("failure") or 0),
            last_used=rec.get("last_used"),
            **fields,
        )
        if item.prov_episode and not item.corroborations and prov.get("success", True):
            item.corroborations = [item.prov_episode]
        return item, redactions

    def _record_version(self, s: Session, item: MemoryItem, *, actor: str, reason: str) -> None:
        s.add(
            ItemVersion(
                item_id=item.id,
                version=item.version,
                actor=actor,
                reason=reason,
                data=item.to_record(),
            )
        )

    def _insert(
        self,
        s: Session,
        items: Sequence[MemoryItem],
        vectors: np.ndarray | None,
        *,
        actor: str,
        reason: str,
        seq: int,
    ) -> None:
        stamp = now()
        for it in items:
            it.seq = seq
            it.created_at = it.updated_at = stamp
            s.add(it)
            self._record_version(s, it, actor=actor, reason=reason)
        if vectors is not None:
            self._put_vectors(s, [(it, vectors[i]) for i, it in enumerate(items)])

    def _put_vectors(self, s: Session, rows: Sequence[tuple[MemoryItem, np.ndarray]]) -> None:
        s.connection().exec_driver_sql(
            "INSERT OR REPLACE INTO item_vectors(item_id, model, text_hash, vector) "
            "VALUES (?, ?, ?, ?)",
            [
                (it.id, self.model_id, _text_hash(it.embed_text()), v.astype(np.float32).tobytes())
                for it, v in rows
            ],
        )

    def add(
        self,
        *,
        level: str,
        scope: str,
        title: str,
        content: str,
        when_to_use: str = "",
        tags: Iterable[str] = (),
        trust: str = "trusted",
        actor: str = "user",
        provenance: dict[str, Any] | None = None,
        status: str = "active",
    ) -> MemoryItem:
        """A person's (or a trusted program's) add: stored as given, active and trusted by
        default, bypassing the gate's merge logic (secrets are still redacted)."""
        return self.add_many(
            [
                {
                    "level": level,
                    "scope": scope,
                    "title": title,
                    "content": content,
                    "when_to_use": when_to_use,
                    "tags": list(tags),
                    "trust": trust,
                    "provenance": provenance,
                    "status": status,
                }
            ],
            actor=actor,
        )[0]

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        actor: str = "user",
        reason: str = "added",
        vectors: np.ndarray | None = None,
    ) -> list[MemoryItem]:
        """Add many items in one transaction, embedding them in batches (bulk loads, import).

        ``vectors`` may carry precomputed unit vectors of ``self.model_id`` (bulk loads).
        """
        if self.readonly:
            raise ReadOnlyStore("this memory store was opened read-only")
        items = [self._new_item(r, actor=actor)[0] for r in records]
        if not items:
            return []
        if vectors is None:
            vectors = self.embed_items(items)
        elif vectors.shape[0] != len(items):
            raise InvalidInput("add_many: one vector per record is needed")
        with self._write() as s:
            existing = self._get_many(s, [it.id for it in items])
            if existing:
                raise InvalidInput(f"item id already exists: {next(iter(existing))}")
            seq = self._bump_seq(s)
            self._insert(s, items, vectors, actor=actor, reason=reason, seq=seq)
        return items

    def _change(
        self,
        item_id: str,
        *,
        actor: str,
        reason: str,
        changes: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> MemoryItem:
        """Apply changes to an item as a new version (inside a write transaction)."""
        assert session is not None
        s = session
        it = s.exec(select(MemoryItem).where(MemoryItem.id == item_id)).first()
        if it is None:
            raise ItemNotFound(f"no memory item {item_id!r}")
        changes = dict(changes or {})
        old_text = it.embed_text()
        for key, value in changes.items():
            setattr(it, key, value)
        it.version += 1
        it.seq = self._bump_seq(s)
        it.updated_at = now()
        s.add(it)
        s.flush()
        self._record_version(s, it, actor=actor, reason=reason)
        if it.embed_text() != old_text:
            self._put_vectors(s, [(it, self.embed_items([it])[0])])
        return it

    def update(
        self,
        item_id: str,
        *,
        title: str | None = None,
        content: str | None = None,
        when_to_use: str | None = None,
        tags: Iterable[str] | None = None,
        scope: str | None = None,
        actor: str = "user",
        reason: str = "edited",
    ) -> MemoryItem:
        """Edit an item's text: a new version (secrets redacted)."""
        changes: dict[str, Any] = {}
        for name, value in (("title", title), ("content", content), ("when_to_use", when_to_use)):
            if value is not None:
                changes[name] = redact(value.strip())[0]
        if tags is not None:
            changes["tags"] = sorted({t.strip() for t in tags if t.strip()})
        if scope is not None:
            changes["scope"] = _check_scope(scope)
        if changes.get("title") == "" or changes.get("content") == "":
            raise InvalidInput("title and content cannot be empty")
        with self._write() as s:
            return self._change(item_id, actor=actor, reason=reason, changes=changes, session=s)

    def retire(self, item_id: str, *, actor: str = "user", reason: str = "retired") -> MemoryItem:
        """Take an item out of use (kept, with its history)."""
        with self._write() as s:
            return self._change(
                item_id, actor=actor, reason=reason, changes={"status": "retired"}, session=s
            )

    def quarantine(
        self, item_id: str, *, actor: str = "user", reason: str = "quarantined"
    ) -> MemoryItem:
        """Hold an item back for review."""
        with self._write() as s:
            return self._change(
                item_id, actor=actor, reason=reason, changes={"status": "quarantined"}, session=s
            )

    def approve(self, item_id: str, *, actor: str = "user", reason: str = "approved") -> MemoryItem:
        """A person vouches for an item: active and trusted; what it supersedes retires."""
        with self._write() as s:
            it = self._change(
                item_id,
                actor=actor,
                reason=reason,
                changes={"status": "active", "trust": "trusted"},
                session=s,
            )
            if it.supersedes:
                old = s.exec(select(MemoryItem).where(MemoryItem.id == it.supersedes)).first()
                if old is not None and old.status != "retired":
                    self._change(
                        old.id,
                        actor=actor,
                        reason=f"superseded by {it.id} (approved)",
                        changes={"status": "retired", "superseded_by": it.id},
                        session=s,
                    )
            return it

    def revert(self, item_id: str, version: int, *, actor: str = "user") -> MemoryItem:
        """Make an old version current again (as a new version)."""
        with self._write() as s:
            old = s.exec(
                select(ItemVersion).where(
                    ItemVersion.item_id == item_id, ItemVersion.version == version
                )
            ).first()
            if old is None:
                raise ItemNotFound(f"item {item_id!r} has no version {version}")
            changes = {k: old.data[k] for k in (*TEXT_FIELDS, "status", "trust") if k in old.data}
            return self._change(
                item_id,
                actor=actor,
                reason=f"reverted to version {version}",
                changes=changes,
                session=s,
            )

    def mark_retrieved(self, ids: Sequence[str]) -> None:
        """Count that these items were put in a prompt."""
        if not ids:
            return
        with self._write() as s:
            s.connection().exec_driver_sql(
                f"UPDATE items SET retrieved = retrieved + 1, last_used = ? "
                f"WHERE id IN ({','.join('?' * len(ids))})",
                (now(), *ids),
            )

    def record_outcome(
        self, ids: Sequence[str], *, success: bool, episode_id: str | None = None
    ) -> None:
        """Credit (or debit) the items that were in context when a subtask succeeded (failed).

        Utility counts episodes: within one ``episode_id`` an item counts once, with the
        outcome of the last subtask it was in context for (a failed attempt followed by a
        successful retry is one success). Without an episode id every call counts.
        Counters change in SQL inside ``BEGIN IMMEDIATE``: no update is lost between
        processes. The episode is logged in the audit trail.
        """
        if not ids:
            return
        ids = list(dict.fromkeys(ids))
        stamp = now()
        with self._write() as s:
            conn = s.connection()
            for item_id in ids:
                if episode_id:
                    row = conn.exec_driver_sql(
                        "SELECT success FROM item_outcomes WHERE episode = ? AND item_id = ?",
                        (episode_id, item_id),
                    ).fetchone()
                    if row is not None and bool(row[0]) == success:
                        conn.exec_driver_sql(
                            "UPDATE items SET last_used = ? WHERE id = ?", (stamp, item_id)
                        )
                        continue
                    conn.exec_driver_sql(
                        "INSERT OR REPLACE INTO item_outcomes(episode, item_id, success) "
                        "VALUES (?, ?, ?)",
                        (episode_id, item_id, int(success)),
                    )
                    if row is not None:  # the episode's outcome for this item flips
                        old = "success" if row[0] else "failure"
                        conn.exec_driver_sql(
                            f"UPDATE items SET {old} = max({old} - 1, 0) WHERE id = ?",
                            (item_id,),
                        )
                column = "success" if success else "failure"
                conn.exec_driver_sql(
                    f"UPDATE items SET {column} = {column} + 1, last_used = ? WHERE id = ?",
                    (stamp, item_id),
                )
            if episode_id:
                s.add(
                    AuditEntry(
                        action="outcome",
                        actor="agent",
                        detail=json.dumps({"episode": episode_id, "success": success, "ids": ids}),
                    )
                )

    # ---------------------------------------------------------------- the gate
    def _similar(
        self, s: Session, vec: np.ndarray, *, level: str, scope: str, title: str
    ) -> list[tuple[MemoryItem, float]]:
        """Existing non-retired items of a level near a proposal, most similar first."""
        ids: set[str] = set()
        try:
            ids.update(i for i, _sim in self._nearest(vec, levels=[level], n=8, persist=False))
        except Exception:  # index unreadable: the title match below still applies
            if self.owns_index:
                raise
        norm = gate.normalise_title(title)
        rows = s.connection().exec_driver_sql(
            "SELECT id, title FROM items WHERE level = ? AND scope = ? AND status != 'retired'",
            (level, scope),
        )
        ids.update(i for i, t in rows if gate.normalise_title(t) == norm)
        # items not in the index (candidates, quarantined): compare titles' text by FTS
        match = fts_query(title)
        if match:
            rows = s.connection().exec_driver_sql(
                "SELECT items.id FROM items_fts JOIN items ON items.pk = items_fts.rowid "
                "WHERE items_fts MATCH ? AND items.level = ? AND items.status IN "
                "('candidate', 'quarantined') ORDER BY rank LIMIT 8",
                (match, level),
            )
            ids.update(r[0] for r in rows)
        items = [it for it in self._get_many(s, list(ids)).values() if it.status != "retired"]
        vectors = self._vectors_for(items, persist=False)
        scored = [(it, float(vectors[it.id] @ vec)) for it in items]
        scored.sort(key=lambda p: -p[1])
        return scored

    def propose(
        self,
        *,
        level: str,
        scope: str,
        title: str,
        content: str,
        when_to_use: str = "",
        tags: Iterable[str] = (),
        source_trust: str = "trusted",
        actor: str = "reflector",
        provenance: dict[str, Any] | None = None,
        supersedes: str | None = None,
        episode_success: bool | None = None,
    ) -> WriteResult:
        """The write gate for machine-proposed experience.

        * secrets are redacted; empty proposals are rejected;
        * a near-duplicate of an existing item merges into it as a new version (and, when
          it comes from another successful episode, counts as corroboration);
        * a contradiction (or ``supersedes=ID``) supersedes the old item: the old one
          retires with ``superseded_by`` set; untrusted text cannot retire trusted items,
          it becomes a candidate awaiting approval instead;
        * untrusted text may become an active procedural or tool item (trust
          ``untrusted``), but a strategic lesson from it stays ``candidate`` until a second
          successful episode corroborates it or a person approves it;
        * untrusted text that tries to instruct the agent is quarantined.
        """
        if self.readonly:
            raise ReadOnlyStore("this memory store was opened read-only")
        source_trust = _check_choice(source_trust, TRUSTS, "source_trust")
        prov = dict(provenance or {})
        if episode_success is not None:
            prov.setdefault("success", episode_success)
        rec = {
            "level": level,
            "scope": scope,
            "title": title,
            "content": content,
            "when_to_use": when_to_use,
            "tags": list(tags),
            "trust": source_trust,
            "provenance": prov,
            "supersedes": supersedes,
        }
        try:
            item, redactions = self._new_item(rec, actor=actor)
        except InvalidInput as exc:
            return WriteResult("rejected", None, str(exc))
        untrusted = source_trust == "untrusted"
        raw = f"{title}\n{when_to_use}\n{content}"
        if untrusted and gate.looks_injected(raw):
            item.status = "quarantined"
        elif untrusted and item.level == "strategic":
            item.status = "candidate"
        episode = item.prov_episode
        successful = prov.get("success", True) is not False
        vec = self.embed_items([item])[0]
        with self._write() as s:
            target: MemoryItem | None = None
            if supersedes:
                target = s.exec(select(MemoryItem).where(MemoryItem.id == supersedes)).first()
                if target is None:
                    raise ItemNotFound(f"cannot supersede: no memory item {supersedes!r}")
                decision = gate.Decision(
                    "superseded", target, f"explicitly supersedes {supersedes}"
                )
            else:
                similar = self._similar(
                    s, vec, level=item.level, scope=item.scope, title=item.title
                )
                decision = gate.decide(
                    scope=item.scope,
                    title=item.title,
                    text=item.embed_text(),
                    similar=similar,
                    duplicate=self.settings.duplicate_similarity,
                    related=self.settings.related_similarity,
                )
                target = decision.target
            if decision.action == "merged" and target is not None and item.status != "quarantined":
                changes: dict[str, Any] = {
                    "content": gate.merge_text(target.content, item.content),
                    "when_to_use": gate.merge_text(target.when_to_use, item.when_to_use),
                    "tags": sorted(set(target.tags) | set(item.tags)),
                }
                reason = decision.reason
                corr = list(target.corroborations)
                if episode and successful and episode not in corr:
                    corr.append(episode)
                    changes["corroborations"] = corr
                    reason += f"; corroborated by episode {episode}"
                if not untrusted and target.trust == "untrusted":
                    changes["trust"] = "trusted"
                if target.status == "candidate" and (not untrusted or len(set(corr)) >= 2):
                    changes["status"] = "active"
                    reason += "; promoted to active"
                if all(getattr(target, k) == v for k, v in changes.items()):
                    return WriteResult(
                        "merged", target, decision.reason + "; nothing new", redactions=redactions
                    )
                merged = self._change(
                    target.id, actor=actor, reason=reason, changes=changes, session=s
                )
                return WriteResult("merged", merged, reason, redactions=redactions)
            seq = self._bump_seq(s)
            if decision.action == "superseded" and target is not None:
                item.supersedes = target.id
                if untrusted and target.trust == "trusted":
                    item.status = "quarantined" if item.status == "quarantined" else "candidate"
                    self._insert(
                        s,
                        [item],
                        vec[None, :],
                        actor=actor,
                        reason=f"proposed; would supersede {target.id}",
                        seq=seq,
                    )
                    return WriteResult(
                        "candidate",
                        item,
                        f"{decision.reason}; untrusted text cannot retire a trusted item: "
                        "awaits approval",
                        redactions=redactions,
                    )
                self._insert(
                    s, [item], vec[None, :], actor=actor, reason=f"supersedes {target.id}", seq=seq
                )
                old = self._change(
                    target.id,
                    actor=actor,
                    reason=f"superseded by {item.id}: {decision.reason}",
                    changes={"status": "retired", "superseded_by": item.id},
                    session=s,
                )
                action = "superseded" if item.status == "active" else "candidate"
                return WriteResult(
                    action, item, decision.reason, superseded=old, redactions=redactions
                )
            self._insert(s, [item], vec[None, :], actor=actor, reason="proposed", seq=seq)
            if item.status == "quarantined":
                return WriteResult(
                    "candidate",
                    item,
                    "quarantined: untrusted text that gives instructions",
                    redactions=redactions,
                )
            if item.status == "candidate":
                return WriteResult(
                    "candidate",
                    item,
                    "untrusted strategic lesson: needs a second successful episode or approval",
                    redactions=redactions,
                )
            return WriteResult("created", item, decision.reason, redactions=redactions)

    # ---------------------------------------------------------------- episodes
    def archive_episode(
        self,
        *,
        task: str,
        outcome: str,
        score: float | None = None,
        usage: dict[str, Any] | None = None,
        trajectory: Sequence[Any] = (),
        items_used: Sequence[str] = (),
        items_written: Sequence[str] = (),
        episode_id: str | None = None,
        scope: str | None = None,
        summary: str | None = None,
        trust: str = "trusted",
    ) -> str:
        """Archive a finished task run and index a short episodic item for it; returns its id.

        ``summary`` (what was tried and what went wrong) becomes the episodic item's text,
        redacted and cut to 1,200 characters; ``trust`` says whether the run read untrusted
        content (web pages, files, command output) that may have shaped it.
        """
        ep_id = episode_id or new_episode_id()
        lines = []
        for step in trajectory:
            data = step.model_dump(mode="json") if hasattr(step, "model_dump") else step
            lines.append(redact(json.dumps(data, default=str, ensure_ascii=False))[0])
        head = f"Outcome: {outcome}" + (f" (score {score:.2f})" if score is not None else "")
        head += f"; {len(lines)} steps; items used: {', '.join(items_used) or 'none'}"
        summary = f"{head}\n{summary.strip()[:1200]}" if summary and summary.strip() else head
        ep = Episode(
            id=ep_id,
            task=redact(task)[0],
            outcome=outcome,
            score=score,
            usage=dict(usage or {}),
            trajectory="\n".join(lines),
            items_used=list(items_used),
            items_written=list(items_written),
        )
        item, _n = self._new_item(
            {
                "level": "episodic",
                "scope": scope or f"task/{ep_id}",
                "title": task[:200],
                "content": summary,
                "trust": trust,
                "provenance": {"episode": ep_id, "success": outcome == "success"},
            },
            actor="agent",
        )
        vec = self.embed_items([item])
        with self._write() as s:
            s.add(ep)
            seq = self._bump_seq(s)
            self._insert(s, [item], vec, actor="agent", reason="episode archived", seq=seq)
        return ep_id

    # ---------------------------------------------------------------- curation
    def curate(
        self,
        *,
        min_uses: int | None = None,
        threshold: float | None = None,
        dry_run: bool = False,
        actor: str = "curator",
    ) -> list[MemoryItem]:
        """Retire active items whose utility stays below ``threshold`` after ``min_uses``."""
        min_uses = self.settings.curate_min_uses if min_uses is None else min_uses
        threshold = self.settings.curate_threshold if threshold is None else threshold
        with self._read() as s:
            used = s.exec(
                select(MemoryItem).where(
                    MemoryItem.status == "active",
                    col(MemoryItem.success) + col(MemoryItem.failure) >= min_uses,
                )
            ).all()
        chosen = curation.to_retire(used, min_uses=min_uses, threshold=threshold)
        if dry_run or not chosen:
            return chosen
        out = []
        with self._write() as s:
            for it in chosen:
                out.append(
                    self._change(
                        it.id,
                        actor=actor,
                        reason=f"curated: utility {it.utility:.2f} < {threshold} after {it.uses} uses",
                        changes={"status": "retired"},
                        session=s,
                    )
                )
        return out

    def purge(self, item_id: str, *, actor: str = "user", reason: str = "purged") -> None:
        """Delete an item and its history for good (logged). Not used in normal operation."""
        with self._write() as s:
            it = s.exec(select(MemoryItem).where(MemoryItem.id == item_id)).first()
            if it is None:
                raise ItemNotFound(f"no memory item {item_id!r}")
            seq = self._bump_seq(s)
            conn = s.connection()
            conn.exec_driver_sql("DELETE FROM item_versions WHERE item_id = ?", (item_id,))
            conn.exec_driver_sql("DELETE FROM item_vectors WHERE item_id = ?", (item_id,))
            conn.exec_driver_sql("DELETE FROM item_outcomes WHERE item_id = ?", (item_id,))
            conn.exec_driver_sql("DELETE FROM items WHERE id = ?", (item_id,))
            s.add(
                AuditEntry(
                    seq=seq,
                    action="purge",
                    item_id=item_id,
                    actor=actor,
                    detail=json.dumps({"reason": reason, "title": it.title, "version": it.version}),
                )
            )

    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        """Store-level events (purges, restores, migrations), newest first."""
        with self._read() as s:
            return list(s.exec(select(AuditEntry).order_by(col(AuditEntry.pk).desc()).limit(limit)))

    # ---------------------------------------------------------------- snapshots
    def _snapshot_path(self, name: str) -> Path:
        if not _SNAPSHOT_NAME.match(name):
            raise InvalidInput(f"bad snapshot name {name!r}: use letters, digits, '.', '_' and '-'")
        return self.path / SNAPSHOT_DIR / f"{name}.db"

    def snapshot(self, name: str, *, overwrite: bool = False) -> Path:
        """Freeze the whole store (items, versions, episodes, vectors) as ``snapshots/NAME.db``.

        Uses SQLite's online backup API in one step, so the copy is a consistent point in
        time even while other processes write. The index is rebuilt from it on restore.
        """
        dest = self._snapshot_path(name)
        if dest.exists() and not overwrite:
            raise InvalidInput(f"snapshot {name!r} exists; choose another name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".db.tmp")
        tmp.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        tmp.replace(dest)
        return dest

    def snapshots(self) -> list[dict[str, Any]]:
        """Existing snapshots: name, bytes, modification time."""
        folder = self.path / SNAPSHOT_DIR
        if not folder.is_dir():
            return []
        return [
            {"name": p.stem, "bytes": p.stat().st_size, "created_at": p.stat().st_mtime}
            for p in sorted(folder.glob("*.db"))
        ]

    def restore(self, name: str, *, actor: str = "user") -> Path:
        """Replace the store's content by a snapshot; the current state is first saved as
        snapshot ``pre-restore-<time>`` (nothing is lost). Returns that safety snapshot."""
        if self.readonly:
            raise ReadOnlyStore("restore needs a writable store")
        src_path = self._snapshot_path(name)
        if not src_path.is_file():
            raise ItemNotFound(f"no snapshot {name!r} in {src_path.parent}")
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
        try:
            try:
                row = src.execute("SELECT version FROM schema_version").fetchone()
            except sqlite3.DatabaseError as exc:
                raise StoreCorrupt(f"snapshot {name!r} is not a memory store ({exc})") from exc
            if not row or int(row[0]) > SCHEMA_VERSION:
                raise InvalidInput(f"snapshot {name!r} has an unsupported schema version")
            assert self._write_lock is not None
            self._write_lock.acquire(timeout=self.settings.lock_timeout_s)
            try:
                safety = self.snapshot(time.strftime("pre-restore-%Y%m%d-%H%M%S"), overwrite=True)
                with self._read() as s:
                    seq, _epoch = self._meta(s)
                dst = sqlite3.connect(self.db_path, timeout=self.settings.lock_timeout_s)
                try:
                    src.backup(dst)
                    dst.isolation_level = None
                    dst.execute("BEGIN IMMEDIATE")
                    # a new epoch and a change counter past the old one: every index
                    # owner sees that the store changed underneath it
                    dst.execute(
                        "UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'epoch'"
                    )
                    dst.execute(
                        "UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) + 1 AS TEXT) "
                        "WHERE key = 'seq'",
                        (seq,),
                    )
                    dst.execute(
                        "INSERT INTO audit_log(seq, action, item_id, actor, detail, created_at) "
                        "VALUES (0, 'restore', NULL, ?, ?, ?)",
                        (actor, json.dumps({"snapshot": name, "safety": safety.stem}), now()),
                    )
                    dst.execute("COMMIT")
                finally:
                    dst.close()
            finally:
                self._write_lock.release()
        finally:
            src.close()
        self._engine.dispose()
        self._claim_index()
        if self.owns_index:
            self.reindex(reason=f"restored {name}")
        return safety

    # ---------------------------------------------------------------- verify
    def verify(self, *, repair: bool = True) -> VerifyReport:
        """Full check: SQLite integrity, FTS, versions, vectors, and the index (diffed
        id by id). With ``repair`` (and index ownership) a stale index is fixed."""
        rep = VerifyReport(ok=True)
        with self._read() as s:
            conn = s.connection()
            res = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check(5)")]
            if res != ["ok"]:
                rep.problems.append("sqlite integrity: " + "; ".join(res))
            try:
                conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES('integrity-check')")
            except (OperationalError, SADatabaseError) as exc:
                rep.problems.append(f"full-text index: {exc}")
            rep.items = int(conn.exec_driver_sql("SELECT count(*) FROM items").scalar_one())
            missing_versions = conn.exec_driver_sql(
                "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_versions v "
                "WHERE v.item_id = i.id AND v.version = i.version)"
            ).scalar_one()
            if missing_versions:
                rep.problems.append(f"{missing_versions} item(s) lack their current version record")
            seq, epoch = self._meta(s)
        active = self._sqlite_active()
        rep.active = len(active)
        if not self.index.exists:
            rep.problems.append("vector index folder missing")
            indexed: dict[str, tuple[str, int]] = {}
        else:
            indexed = self.index.entries()
        rep.indexed = len(indexed)
        stale = sum(1 for i, lv in active.items() if indexed.get(i) != lv)
        extra = sum(1 for i in indexed if i not in active)
        st = self.index.read_state()
        if stale or extra:
            rep.problems.append(f"index: {stale} missing or stale, {extra} not active")
        if st.model and st.model != self.model_id:
            rep.problems.append(f"index built with {st.model}, store uses {self.model_id}")
        if (stale or extra or st.model != self.model_id or st.epoch != epoch) and repair:
            if not self.readonly:
                self._claim_index()
            if self.owns_index:
                if st.model != self.model_id or st.epoch != epoch or not self.index.exists:
                    self.reindex(reason="verify")
                    rep.repaired.append("index rebuilt")
                else:
                    rep.repaired += self._repair_index(active)
                rep.indexed = self.index.count()
                rep.problems = [
                    p for p in rep.problems if not p.startswith(("index", "vector index"))
                ]
        del seq
        rep.ok = not rep.problems
        return rep

    # ---------------------------------------------------------------- import / export
    def export_jsonl(self, path: str | Path, *, status: str | None = None) -> int:
        """Write every item (all statuses unless ``status``) as JSON Lines; returns the count."""
        out = Path(path)
        n = 0
        with out.open("w", encoding="utf-8") as fh:
            offset = 0
            while True:
                batch = self.list_items(status=status, limit=2000, offset=offset)
                for it in batch:
                    fh.write(json.dumps(it.to_record(), ensure_ascii=False) + "\n")
                    n += 1
                if len(batch) < 2000:
                    break
                offset += 2000
        return n

    def import_jsonl(self, path: str | Path, *, actor: str = "user") -> dict[str, int]:
        """Read items from JSON Lines (a person's import: active and trusted unless the
        record says otherwise). Known ids get a new version when their text differs."""
        src = Path(path)
        if not src.is_file():
            raise InvalidInput(f"no such file: {src}")
        records: list[dict[str, Any]] = []
        for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{src}:{lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(rec, dict):
                raise InvalidInput(f"{src}:{lineno}: expected a JSON object")
            records.append(rec)
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        ids = [str(r["id"]) for r in records if r.get("id")]
        existing = {it.id: it for it in self.get_many(ids)}
        fresh = [r for r in records if not r.get("id") or str(r["id"]) not in existing]
        for start in range(0, len(fresh), 500):
            counts["added"] += len(
                self.add_many(fresh[start : start + 500], actor=actor, reason="imported")
            )
        for rec in records:
            it = existing.get(str(rec.get("id") or ""))
            if it is None:
                continue
            new, _n = self._new_item({**rec, "id": it.id}, actor=actor)
            changes = {
                k: getattr(new, k)
                for k in (*TEXT_FIELDS, "status", "trust")
                if getattr(new, k) != getattr(it, k)
            }
            if not changes:
                counts["unchanged"] += 1
                continue
            with self._write() as s:
                self._change(it.id, actor=actor, reason="imported", changes=changes, session=s)
            counts["updated"] += 1
        return counts


# -------------------------------------------------------------------- validation helpers
def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


def _check_level(level: str) -> str:
    return _check_choice(level, LEVELS, "level")


def _check_scope(scope: str) -> str:
    scope = scope.strip().strip("/")
    if not scope or not _SCOPE.match(scope):
        raise InvalidInput(
            f"bad scope {scope!r}: a path such as 'global', 'app/trac/tickets' or 'tool/browser_click'"
        )
    return scope


def _levels(level: str | Sequence[str] | None) -> list[str]:
    if level is None:
        return list(LEVELS)
    if isinstance(level, str):
        return [_check_level(level)]
    return [_check_level(lv) for lv in level]


__all__ = ["MemoryStore", "VerifyReport", "WriteResult", "estimate_tokens"]
