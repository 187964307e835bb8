"""The store's database layer: engine, transactions, the writer lock, schema and meta.

Concurrency: every write is a transaction that takes the database's write lock up front
(SQLite: ``BEGIN IMMEDIATE``), under the backend's cross-process writer lock (SQLite: the
file lock ``write.lock``; PostgreSQL: an advisory lock) so the gate's read-decide-write is
atomic across processes. Read-only stores take no lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from memory.backend import StorageBackend
from memory.errors import InvalidInput, ReadOnlyStore, SchemaTooNew, StoreCorrupt
from memory.records import AuditEntry
from memory.schema import SCHEMA_VERSION, migrate, read_version

_QUICK_CHECK_MAX_BYTES = 64 << 20


class Database:
    """Sessions over one backend: reads, locked write transactions, the change counter."""

    def __init__(
        self, backend: StorageBackend, folder: Path, *, readonly: bool, lock_timeout_s: float
    ) -> None:
        self.backend = backend
        self.readonly = readonly
        self.lock_timeout_s = lock_timeout_s
        busy_ms = int(max(lock_timeout_s, 1.0) * 1000)
        self.engine = backend.make_engine(readonly=readonly, busy_ms=busy_ms)
        self._write_engine = self.engine.execution_options(**backend.write_options())
        self._lock = backend.make_lock("write") if not readonly else None

    def close(self) -> None:
        """Dispose of the connections and release the lock."""
        self.engine.dispose()
        if self._lock is not None:
            self._lock.close()

    def corrupt(self, exc: BaseException) -> StoreCorrupt:
        """The user-facing error for a damaged database."""
        return StoreCorrupt(
            f"{self.backend.location} is damaged ({exc}); restore a snapshot with "
            f"`journeyman memory restore NAME`, {self.backend.recover_hint}"
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The cross-process writer lock held (re-entrant within this process)."""
        if self._lock is None:
            raise ReadOnlyStore("this memory store was opened read-only")
        with self._lock.hold(timeout=self.lock_timeout_s):
            yield

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, SADatabaseError) as exc:
            explained = self.backend.explain(exc)
            if explained is not None:
                raise explained from exc
            if self.backend.is_corruption(exc):
                raise self.corrupt(exc) from exc
            raise

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """One read transaction; rows come out detached (usable after it ends)."""
        with self._translated():
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
                session.expunge_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction under the writer lock."""
        with self.locked(), self._translated():
            with Session(self._write_engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session
                session.expunge_all()

    @staticmethod
    def bump_seq(session: Session) -> int:
        """Advance the store-wide change counter; returns its new value."""
        row = session.connection().exec_driver_sql(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq' RETURNING value"
        )
        return int(row.scalar_one())

    @staticmethod
    def meta(session: Session) -> tuple[int, str]:
        """The change counter and the epoch (which changes on restore)."""
        rows: dict[str, str] = {
            str(k): str(v)
            for k, v in session.connection().exec_driver_sql("SELECT key, value FROM meta")
        }
        return int(rows.get("seq", 0)), str(rows.get("epoch", ""))

    def prepare_schema(self) -> None:
        """Migrate (writable) or check (read-only) the schema version, then a quick check."""
        try:
            if self.readonly:
                with self.read() as s:
                    version = read_version(s.connection())
                if version > SCHEMA_VERSION:
                    raise SchemaTooNew(
                        f"this memory store has schema version {version}, newer than this "
                        f"journeyman understands ({SCHEMA_VERSION}); upgrade journeyman to open it"
                    )
                if version < SCHEMA_VERSION:
                    raise InvalidInput(
                        f"this memory store has schema version {version}; open it once "
                        "writable to migrate it"
                    )
            else:
                with self.locked(), Session(self._write_engine) as s, s.begin():
                    before, after = migrate(s.connection(), self.backend.engine_schema())
                    if before != after:
                        s.add(
                            AuditEntry(
                                action="migrate", actor="system", detail=f"{before}->{after}"
                            )
                        )
            if self.backend.size_bytes() <= _QUICK_CHECK_MAX_BYTES:
                with self.read() as s:
                    res = self.backend.quick_check(s.connection())
                if res != "ok":
                    raise self.corrupt(RuntimeError(res))
        except (OperationalError, SADatabaseError) as exc:
            raise self.backend.explain(exc) or self.corrupt(exc) from exc
