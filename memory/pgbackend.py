"""PostgreSQL as a store's truth (``memory.backend = "postgres"``), over psycopg 3.

The same SQLModel tables, versions, episodes and migrations as SQLite (memory/schema.py);
what differs lives here, behind :class:`memory.backend.StorageBackend`:

* **SQL.** The store writes its portable SQL with ``?`` placeholders; a cursor hook turns
  them into psycopg's ``%s`` (outside string literals) for statements the store writes
  itself. SQLAlchemy's own statements are left alone.
* **Locks.** The writer lock and the index owner's lock are advisory locks
  (memory/_pglock.py), each held on a connection of its own: a killed process frees them
  with its connection. Writes run in READ COMMITTED under the writer lock, so the gate's
  read-decide-write sees every committed change and no two writers interleave.
* **Lexical search.** A generated ``tsvector`` column with a GIN index. The fields carry
  the weights of SQLite's BM25 columns (title 8, when-to-use 4, tags 2, content and scope
  1: classes A, B, C, D scaled to 1, 1/2, 1/4, 1/8), and each query term's ``ts_rank`` is
  multiplied by BM25's inverse document frequency, counted in the same statement:
  ``ts_rank`` alone has no IDF and let a common word outrank a rare, telling one.
* **Snapshots** are SQLite files, the embedded backend's own format: ``copy_out`` writes
  one from a single REPEATABLE READ transaction, ``copy_in`` loads one (from this store,
  another PostgreSQL store or an SQLite store) in one transaction. So a local store moves
  to PostgreSQL with ``memory snapshot import`` and ``memory restore``.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from memory._pglock import AdvisoryLock
from memory.backend import SQLITE_FULL_TEXT, Lock, Sql, SQLiteBackend
from memory.errors import InvalidInput, MemoryStoreError, StoreUnreachable
from memory.namespaces import in_namespaces
from memory.records import LEVELS
from memory.schema import migrate

#: ts_rank's weights of classes D, C, B, A: SQLite's BM25 column weights 1, 2, 4, 8 over 8.
_WEIGHTS = "'{0.125, 0.25, 0.5, 1.0}'"
#: ts_rank's normalisation: divide by 1 + log(document length) (BM25's length damping).
_NORM = 1
_FULL_TEXT = [
    """ALTER TABLE items ADD COLUMN IF NOT EXISTS fts tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(when_to_use, '')), 'B') ||
        setweight(to_tsvector('english', translate(tags::text, '[]",_/.-', '         ')), 'C') ||
        setweight(to_tsvector('english', coalesce(content, '')), 'D') ||
        setweight(to_tsvector('english', translate(scope, '_/.-', '    ')), 'D')) STORED""",
    # fastupdate off: with it, new entries wait in a pending list that every search
    # scans until a vacuum merges them (0.5 ms a term after a bulk load of 10k items)
    "CREATE INDEX IF NOT EXISTS ix_items_fts ON items USING gin (fts) WITH (fastupdate = off)",
    # names the store's collections on a shared Chroma server (kept across restores)
    "INSERT INTO meta(key, value) VALUES ('store_id', md5(random()::text)) ON CONFLICT DO NOTHING",
]
#: Tables a snapshot holds, parents first; the ones with a serial ``pk``.
_TABLES = (
    "meta", "schema_version", "items", "item_versions", "episodes",
    "item_vectors", "audit_log", "item_outcomes",
)  # fmt: skip
_SERIAL = ("items", "item_versions", "episodes", "audit_log")
_CONNECTION_STATES = ("08", "28", "3D", "57P")  # connection, login, no such database, shutdown
_CORRUPTION_STATES = ("XX001", "XX002")  # data_corrupted, index_corrupted
_LOCK_KEYS = {"write": 0x6A6D5752, "index": 0x6A6D4958}  # "jmWR", "jmIX"
_QUOTED = re.compile(r"""'(?:[^']|'')*'|[?%]""")


def qmark_to_format(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` and ``%`` to ``%%``, string literals kept."""

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "?":
            return "%s"
        if tok == "%":
            return "%%"
        return tok.replace("%", "%%")

    return _QUOTED.sub(repl, sql)


def check_url(url: str | None) -> str:
    """The URL, or :class:`InvalidInput` saying what a PostgreSQL URL looks like."""
    if not url:
        raise InvalidInput(
            "memory.backend is 'postgres' but memory.url is not set: give "
            "postgresql://user[:password]@host:port/dbname"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise InvalidInput(
            f"memory.url {mask(url)!r} is not a PostgreSQL URL: give "
            "postgresql://user[:password]@host:port/dbname"
        )
    if not parsed.database:
        raise InvalidInput(f"memory.url {mask(url)!r} names no database (…/dbname)")
    return url


def mask(url: str) -> str:
    """The URL with its password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())[:300]


def _terms(match: str) -> list[str]:
    """The quoted words of an FTS5 MATCH expression (memory.retrieval.match_expr)."""
    return re.findall(r'"([^"]+)"', match) or [w for w in match.split() if w != "OR"]


class PostgresBackend:
    """A store whose truth is a PostgreSQL database (see the module docstring)."""

    name = "postgres"
    recover_hint = "or repair the database with PostgreSQL's own tools"

    def __init__(self, url: str | None) -> None:
        self.url = check_url(url)
        self.location = mask(self.url)
        self._engine: Engine | None = None

    # -- connections ----------------------------------------------------------------
    def _unreachable(self, exc: BaseException) -> StoreUnreachable:
        return StoreUnreachable(
            f"cannot reach the PostgreSQL memory store {self.location}: {_one_line(exc)} "
            "(check memory.url and that the server is running)"
        )

    def connect(self, *, autocommit: bool = True) -> Any:
        """A plain psycopg connection (locks, snapshots); :class:`StoreUnreachable` if none."""
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from exc

    def exists(self) -> bool:
        """True when the database holds a memory store."""
        with closing(self.connect()) as conn:
            row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        return bool(row[0])

    def check_file(self) -> None:
        """Nothing to check before connecting (no file)."""

    def make_engine(self, *, readonly: bool, busy_ms: int) -> Engine:
        """A pooled psycopg engine; the store's ``?`` SQL is translated on its way out."""
        url = make_url(self.url).set(drivername="postgresql+psycopg")
        # psycopg prepares a statement after five runs, and PostgreSQL then tries a
        # generic plan: for the lexical query (terms unknown) that plan took ~100 ms where
        # the custom plan takes under 1 ms, so plans stay custom
        opts = f"-c lock_timeout={busy_ms} -c plan_cache_mode=force_custom_plan"
        if readonly:
            opts += " -c default_transaction_read_only=on"
        # reads run in autocommit: under READ COMMITTED every statement takes its own
        # snapshot anyway, and BEGIN and COMMIT were two round trips of every read (most
        # of a search's time on a busy machine); writes get READ COMMITTED transactions
        # (write_options)
        engine = create_engine(
            url,
            pool_size=4,
            max_overflow=8,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5, "options": opts},
        )

        @event.listens_for(engine, "before_cursor_execute", retval=True)
        def _translate(
            _conn: Any, _cur: Any, statement: str, params: Any, context: Any, _many: bool
        ) -> tuple[str, Any]:
            if context is not None and getattr(context, "compiled", None) is None:
                statement = qmark_to_format(statement)
            return statement, params

        self._engine = engine
        return engine

    def write_options(self) -> dict[str, Any]:
        """A READ COMMITTED transaction (serialised with other writers by the advisory
        writer lock)."""
        return {"isolation_level": "READ COMMITTED"}

    def refresh_statistics(self) -> None:
        """``ANALYZE``: right after a bulk load the planner, without statistics, took the
        level index over the full-text one and a search cost 8 ms instead of 0.3 ms
        (autovacuum would catch up only a minute later)."""
        if self._engine is not None:
            with self._engine.connect() as conn:  # autocommit: ANALYZE needs no transaction
                conn.exec_driver_sql("ANALYZE items, item_vectors, item_versions")

    def make_lock(self, name: str) -> Lock:
        """An advisory lock on its own connection (freed if this process dies)."""
        return AdvisoryLock(self.connect, _LOCK_KEYS[name], label=name)

    def explain(self, exc: BaseException) -> MemoryStoreError | None:
        """Connection, login and missing-database errors: :class:`StoreUnreachable`."""
        orig = getattr(exc, "orig", exc)
        state = getattr(orig, "sqlstate", None)
        import psycopg

        if isinstance(orig, psycopg.OperationalError) and (
            state is None or state.startswith(_CONNECTION_STATES)
        ):
            return self._unreachable(orig)
        return None

    def is_corruption(self, exc: BaseException) -> bool:
        """PostgreSQL's data- and index-corruption error codes."""
        state = getattr(getattr(exc, "orig", exc), "sqlstate", None) or ""
        return state in _CORRUPTION_STATES

    def size_bytes(self) -> int:
        """The database's size."""
        if self._engine is None:
            return 0
        with self._engine.connect() as conn:
            return int(
                conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
            )

    def engine_schema(self) -> list[str]:
        """The generated tsvector column, its GIN index, and the store id."""
        return list(_FULL_TEXT)

    # -- checks ---------------------------------------------------------------------
    def quick_check(self, conn: Connection) -> str:
        """The full-text column is there (the server checks its own pages)."""
        row = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'items' AND column_name = 'fts'"
        ).scalar_one()
        return "ok" if row else "items has no full-text column"

    def integrity_problems(self, conn: Connection) -> list[str]:
        """Invalid indexes (a failed concurrent build) and items missing from full text."""
        problems = []
        bad = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_class t ON t.oid = i.indrelid WHERE NOT i.indisvalid "
                "AND t.relname IN ('items', 'item_versions', 'episodes', 'item_vectors')"
            )
        ]
        if bad:
            problems.append(f"invalid indexes: {', '.join(bad)} (REINDEX them)")
        if conn.exec_driver_sql("SELECT count(*) FROM items WHERE fts IS NULL").scalar_one():
            problems.append("full-text index: items without a tsvector")
        return problems

    # -- lexical search ---------------------------------------------------------------
    @staticmethod
    def _filters(
        status: str, levels: Sequence[str], scope: str | None, namespaces: Sequence[str]
    ) -> tuple[str, list[Any]]:
        ns_cond, ns_params = in_namespaces(namespaces, "items.namespace")
        sql = f" AND items.status = ? AND {ns_cond}"
        params: list[Any] = [status, *ns_params]
        if len(levels) < len(LEVELS):
            sql += f" AND items.level IN ({','.join('?' * len(levels))})"
            params += list(levels)
        if scope:
            sql += " AND (items.scope = ? OR items.scope LIKE ?)"
            params += [scope, scope.replace("%", r"\%") + "/%"]
        return sql, params

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
        """Sum over the query's terms of BM25's IDF times the term's weighted ts_rank
        (negated: lower is better, as FTS5's scores).

        Each term's tsquery is a constant of the statement, so the planner estimates its
        matches from the column's statistics and reaches them through the GIN index; each
        term's document frequency is an uncorrelated subquery, counted once (the store has
        already dropped terms found in more than max(1000, 3%) of the items).
        """
        terms = _terms(match)
        tsq = "to_tsquery('english', ?)"
        idf = (
            "(SELECT ln(1 + (n.total - c.df + 0.5) / (c.df + 0.5)) FROM "
            f"(SELECT count(*) AS df FROM items WHERE fts @@ {tsq}) c, "
            "(SELECT coalesce(max(pk), 0) AS total FROM items) n)"
        )
        rank = " + ".join(f"{idf} * ts_rank({_WEIGHTS}, items.fts, {tsq}, {_NORM})" for _ in terms)
        where, params = self._filters(status, levels, scope, namespaces)
        sql = (
            f"SELECT items.id, -({rank}) AS s FROM items "
            f"WHERE items.fts @@ ({' || '.join([tsq] * len(terms))}){where} ORDER BY s LIMIT ?"
        )
        per_term = [t for term in terms for t in (term, term)]
        return sql, (*per_term, *terms, *params, limit)

    def lexical_counts(self, terms: Sequence[str], *, cap: int) -> Sql:
        """Count each term's matches, stopping at ``cap + 1``."""
        one = (
            "(SELECT count(*) FROM (SELECT 1 FROM items "
            "WHERE fts @@ to_tsquery('english', ?) LIMIT ?) t)"
        )
        params: list[Any] = []
        for term in terms:
            params += [term, cap + 1]
        return "SELECT " + ", ".join([one] * len(terms)), tuple(params)

    def lexical_unindexed(self, match: str, *, level: str, limit: int, namespace: str) -> Sql:
        """Candidate and quarantined items of a level and namespace matching any term,
        best first."""
        return (
            "SELECT items.id FROM items, to_tsquery('english', ?) q WHERE items.fts @@ q "
            "AND items.level = ? AND items.namespace = ? "
            "AND items.status IN ('candidate', 'quarantined') "
            f"ORDER BY ts_rank({_WEIGHTS}, items.fts, q, {_NORM}) DESC LIMIT ?",
            (" | ".join(_terms(match)), level, namespace, limit),
        )

    # -- snapshots ----------------------------------------------------------------------
    def copy_out(self, dest: Path) -> None:
        """The whole store, read in one REPEATABLE READ transaction, as an SQLite file."""
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        tmp.unlink(missing_ok=True)
        lite = create_engine(f"sqlite:///{tmp}")
        try:
            with lite.begin() as lc:
                migrate(lc, SQLITE_FULL_TEXT)
                lc.exec_driver_sql("DELETE FROM meta")
                lc.exec_driver_sql("DELETE FROM schema_version")
        finally:
            lite.dispose()
        with closing(self.connect(autocommit=False)) as pg, closing(sqlite3.connect(tmp)) as dst:
            pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for table in _TABLES:
                cols = [r[1] for r in dst.execute(f"PRAGMA table_info({table})")]
                sql = (
                    f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                )
                with pg.cursor(name=f"snap_{table}") as cur:
                    cur.itersize = 2000
                    cur.execute(f"SELECT {', '.join(cols)} FROM {table}")
                    for rows in _batches(cur):
                        dst.executemany(sql, [tuple(map(_to_sqlite, r)) for r in rows])
            dst.commit()
            pg.rollback()
        tmp.replace(dest)

    def snapshot_version(self, src: Path, *, label: str) -> int:
        """Read ``schema_version`` from a snapshot file (an SQLite file)."""
        return SQLiteBackend(src.parent).snapshot_version(src, label=label)

    def copy_in(
        self, src: Path, *, timeout: float, seq: int, audit: tuple[str, str, float]
    ) -> None:
        """Replace every table's rows by the snapshot's, migrate them, then give the store a
        new epoch, a change counter past ``seq`` and the restore's audit row: one
        transaction, so a failure leaves the store as it was."""
        if self._engine is None:
            raise MemoryStoreError("the store's engine is not open")
        with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as lite:
            present = {r[0] for r in lite.execute("SELECT name FROM sqlite_master")}
            with self._engine.execution_options(**self.write_options()).begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout * 1000)}")
                store_id = conn.exec_driver_sql(
                    "SELECT value FROM meta WHERE key = 'store_id'"
                ).scalar_one_or_none()
                conn.exec_driver_sql(f"TRUNCATE {', '.join(_TABLES)}")
                for table in _TABLES:
                    if table not in present:
                        continue  # an older snapshot: the migration below makes it
                    cols = [r[1] for r in lite.execute(f"PRAGMA table_info({table})")]
                    sql = (
                        f"INSERT INTO {table}({', '.join(cols)}) "
                        f"VALUES ({', '.join('?' * len(cols))})"
                    )
                    cur = lite.execute(f"SELECT {', '.join(cols)} FROM {table}")
                    while rows := cur.fetchmany(2000):
                        conn.exec_driver_sql(sql, list(rows))
                for table in _SERIAL:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'), "
                        f"coalesce((SELECT max(pk) FROM {table}), 0) + 1, false)"
                    )
                migrate(conn, self.engine_schema())
                if store_id is not None:
                    conn.exec_driver_sql(
                        "UPDATE meta SET value = ? WHERE key = 'store_id'", (store_id,)
                    )
                conn.exec_driver_sql(
                    "UPDATE meta SET value = ? WHERE key = 'epoch'", (secrets.token_hex(8),)
                )
                conn.exec_driver_sql(
                    "UPDATE meta SET value = CAST(greatest(CAST(value AS BIGINT), ?) + 1 AS TEXT) "
                    "WHERE key = 'seq'",
                    (seq,),
                )
                conn.exec_driver_sql(
                    "INSERT INTO audit_log(seq, action, item_id, actor, detail, created_at) "
                    "VALUES (0, 'restore', NULL, ?, ?, ?)",
                    audit,
                )
        self.refresh_statistics()  # every row is new


def _batches(cur: Any) -> Iterator[list[Any]]:
    while rows := cur.fetchmany(2000):
        yield rows


def _to_sqlite(value: Any) -> Any:
    """PostgreSQL's parsed JSON back to the text SQLite keeps."""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value
