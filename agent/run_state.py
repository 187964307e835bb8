"""Where a run's durable state lives: its checkpoints, its action journal, its record.

By default all three are files in the run's folder (``<runs_dir>/<thread>/``):
``checkpoints.sqlite`` (SqliteSaver), ``actions.jsonl`` and ``run.json``. With
``memory.backend = "postgres"`` they go to the database at ``memory.url`` instead
(agent/pg_runs.py: LangGraph's Postgres saver, two tables of ours), so that ``journeyman
resume THREAD`` works from any machine that reaches it; ``run.json`` is still written
locally, for the run's folder to say what it was.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError, JourneymanError
from agent.journal import ActionJournal

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from agent.config import Settings
    from agent.pg_runs import PostgresJournal

CHECKPOINTS = "checkpoints.sqlite"
JOURNAL = "actions.jsonl"
RUN_INFO = "run.json"


class RunNotFound(JourneymanError):
    """No run with this thread id in the runs folder (or the runs database)."""

    exit_code = 2


def postgres_url(settings: Settings) -> str | None:
    """The database that holds runs, or None when they live in their folders."""
    memory = settings.memory
    if memory.backend != "postgres":
        return None
    if not memory.url:
        raise ConfigError(
            "memory.backend is 'postgres' but memory.url is not set: set it to "
            "postgresql://user@host:port/dbname (JOURNEYMAN_MEMORY__URL)"
        )
    return memory.url


def save_run_info(settings: Settings, run_dir: Path, info: dict[str, Any]) -> None:
    """Record what a run was started with (the database first: a failure stops the run
    before anything happened)."""
    url = postgres_url(settings)
    if url is not None:
        from agent.pg_runs import save_info

        save_info(url, str(info["thread_id"]), info)
    (run_dir / RUN_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")


def load_run_info(settings: Settings, thread_id: str) -> dict[str, Any]:
    """What a run was started with (task, workspace, memory, profile, learn)."""
    url = postgres_url(settings)
    if url is not None:
        from agent.pg_runs import load_info, mask

        found = load_info(url, thread_id)
        if found is None:
            raise RunNotFound(f"no run {thread_id!r} in the database at {mask(url)}")
        return found
    path = settings.runs_dir.expanduser() / thread_id / RUN_INFO
    if not path.is_file():
        raise RunNotFound(f"no run {thread_id!r} in {settings.runs_dir}")
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return info


def check_resumable(settings: Settings, run_dir: Path, thread_id: str) -> None:
    """Raise :class:`RunNotFound` unless the run has checkpoints to continue from."""
    if postgres_url(settings) is not None:
        load_run_info(settings, thread_id)
    elif not (run_dir / CHECKPOINTS).is_file():
        raise RunNotFound(f"no run {thread_id!r} in {run_dir.parent}")


@contextlib.asynccontextmanager
async def open_run_state(
    settings: Settings, run_dir: Path, thread_id: str
) -> AsyncIterator[tuple[BaseCheckpointSaver[Any], ActionJournal | PostgresJournal]]:
    """The run's checkpointer and action journal, closed at the end."""
    from agent.checkpoint import open_checkpointer, serializer

    url = postgres_url(settings)
    if url is None:
        journal = ActionJournal(run_dir / JOURNAL)
        try:
            with open_checkpointer(run_dir / CHECKPOINTS) as saver:
                yield saver, journal
        finally:
            journal.close()
        return
    import psycopg

    from agent.pg_runs import PostgresJournal, open_saver, unavailable

    pg_journal = PostgresJournal(url, thread_id)
    # psycopg logs a warning (printed on stderr) as it drops a pipeline whose connection is
    # lost: that loss is reported below, as the one line the CLI prints
    quiet = _Quiet(logging.getLogger("psycopg"))
    try:
        async with open_saver(url, serializer()) as pg_saver:
            try:
                yield pg_saver, pg_journal
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # gone mid-run
                raise unavailable(
                    url,
                    exc,
                    during=f"the run stopped at its last checkpoint: `journeyman resume "
                    f"{thread_id}` continues it once the database answers",
                ) from None
    finally:
        pg_journal.close()
        quiet.close()


class _Quiet(logging.Filter):
    """Drops psycopg's "error ignored" warnings while attached to its logger."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger
        logger.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("error ignored")

    def close(self) -> None:
        self.logger.removeFilter(self)
