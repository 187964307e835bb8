"""A run's durable state in PostgreSQL: LangGraph's checkpointer, the action journal and
the run's own record (what ``resume`` needs to rebuild the agent), all in one database.

Any machine that reaches the database can resume the run. The tables beside LangGraph's
own (``checkpoints``, ``checkpoint_blobs``, ``checkpoint_writes``, ``checkpoint_migrations``)::

    journeyman_runs      thread_id, info (run.json's content, JSON text), created_at
    journeyman_actions   seq, thread_id, key, event ('start' | 'result'), entry (JSON text)

JSON is stored as text, not JSONB: JSONB refuses ``\\u0000``, which tool output may hold.
Every statement commits on its own (autocommit): a journal line is durable before the
tool it announces runs, as the JSONL file's flushed line is.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from agent.errors import JourneymanError

if TYPE_CHECKING:
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.checkpoint.serde.base import SerializerProtocol

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS journeyman_runs (
        thread_id TEXT PRIMARY KEY,
        info TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS journeyman_actions (
        seq BIGSERIAL PRIMARY KEY,
        thread_id TEXT NOT NULL,
        key TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('start', 'result')),
        entry TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS journeyman_actions_thread ON journeyman_actions (thread_id, seq)",
)
_SETUP_LOCK = 7_202_020
"""Advisory lock key: two processes setting up one database at once wait for each other."""
CONNECT_TIMEOUT_S = 10


class RunStoreUnavailable(JourneymanError):
    """The PostgreSQL database that holds runs cannot be reached or used."""

    exit_code = 2


def mask(url: str) -> str:
    """The URL without its password (for messages)."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def unavailable(url: str, exc: BaseException, *, during: str = "") -> RunStoreUnavailable:
    """The one-line error for a database that cannot be reached, or (``during``: what the
    run did about it) one that went away while a run used it."""
    text = " ".join(str(exc).split())[:300] or type(exc).__name__
    if during:
        return RunStoreUnavailable(
            f"lost the connection to PostgreSQL at {mask(url)} (memory.url): {text}; {during}"
        )
    return RunStoreUnavailable(f"PostgreSQL is not reachable at {mask(url)} (memory.url): {text}")


@contextlib.contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise unavailable(url, exc) from None
    with conn:
        try:
            yield conn
        except psycopg.OperationalError as exc:
            raise unavailable(url, exc) from None


def save_info(url: str, thread_id: str, info: dict[str, Any]) -> None:
    """Record (or replace) what the run was started with."""
    with _connect(url) as conn:
        _ensure_schema(conn)
        conn.execute(
            "INSERT INTO journeyman_runs (thread_id, info) VALUES (%s, %s) "
            "ON CONFLICT (thread_id) DO UPDATE SET info = EXCLUDED.info",
            (thread_id, json.dumps(info, default=str)),
        )


def load_info(url: str, thread_id: str) -> dict[str, Any] | None:
    """What the run was started with, or None when the database has no such run."""
    import psycopg

    with _connect(url) as conn:
        try:
            row = conn.execute(
                "SELECT info FROM journeyman_runs WHERE thread_id = %s", (thread_id,)
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return None  # nothing was ever run against this database
    if row is None:
        return None
    info: dict[str, Any] = json.loads(row[0])
    return info


def _ensure_schema(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
    try:
        for statement in _SCHEMA:
            conn.execute(statement)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))


class PostgresJournal:
    """The action journal (see agent/journal.py) as rows of ``journeyman_actions``."""

    def __init__(self, url: str, thread_id: str) -> None:
        import psycopg

        self.url = url
        self.thread_id = thread_id
        self._started: set[str] = set()
        self._results: dict[str, dict[str, Any]] = {}
        try:
            self._conn: psycopg.Connection[Any] | None = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            raise unavailable(url, exc) from None
        try:
            _ensure_schema(self._conn)
            rows = self._conn.execute(
                "SELECT key, event, entry FROM journeyman_actions WHERE thread_id = %s "
                "ORDER BY seq",
                (thread_id,),
            ).fetchall()
        except psycopg.Error as exc:
            self.close()
            raise unavailable(url, exc) from None
        for key, event, entry in rows:
            if event == "start":
                self._started.add(key)
            else:
                self._results[key] = json.loads(entry)

    def result(self, key: str) -> dict[str, Any] | None:
        """The recorded result of an action, if it finished."""
        return self._results.get(key)

    def started(self, key: str) -> bool:
        """Whether the action was started (it may have finished or been cut off)."""
        return key in self._started

    def start(self, key: str, tool: str, arguments: dict[str, Any]) -> None:
        """Record, durably, that an action is about to run."""
        self._write(key, "start", {"tool": tool, "arguments": arguments})
        self._started.add(key)

    def finish(self, key: str, result: dict[str, Any]) -> None:
        """Record an action's result."""
        self._write(key, "result", result)
        self._results[key] = result

    def _write(self, key: str, event: str, entry: dict[str, Any]) -> None:
        import psycopg

        if self._conn is None:
            raise RunStoreUnavailable("the action journal is closed")
        try:
            self._conn.execute(
                "INSERT INTO journeyman_actions (thread_id, key, event, entry) "
                "VALUES (%s, %s, %s, %s)",
                (self.thread_id, key, event, json.dumps(entry, default=str)),
            )
        except psycopg.Error as exc:
            raise unavailable(
                self.url,
                exc,
                during=f"the run stopped before its next action: `journeyman resume "
                f"{self.thread_id}` continues it once the database answers",
            ) from None

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


@contextlib.asynccontextmanager
async def open_saver(url: str, serde: SerializerProtocol) -> AsyncIterator[AsyncPostgresSaver]:
    """LangGraph's Postgres checkpointer over ``url``, its tables set up once per database."""
    import psycopg
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row

    try:
        conn = await psycopg.AsyncConnection.connect(
            url,
            autocommit=True,
            prepare_threshold=0,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    except psycopg.Error as exc:
        raise unavailable(url, exc) from None
    async with conn:
        saver = AsyncPostgresSaver(conn=conn, serde=serde)  # type: ignore[arg-type]
        await conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
        try:
            await saver.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        yield saver
