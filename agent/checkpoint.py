"""The run's checkpointer: LangGraph's SqliteSaver, with its async methods run inline.

LangGraph's AsyncSqliteSaver sends every checkpoint operation to a worker thread
(aiosqlite) and waits for it; each hop costs more than the write itself (a WAL commit
takes well under a millisecond). The agent's nodes are async, so the graph calls the
async methods: here they simply call the synchronous ones. ``synchronous=NORMAL`` in WAL
mode survives a killed process (only a power loss may drop the last commits).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    SerializerProtocol,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.state import STATE_TYPES


def serializer() -> JsonPlusSerializer:
    """msgpack checkpoints that rebuild only the state's own classes (never pickle)."""
    return JsonPlusSerializer(
        allowed_msgpack_modules=[(c.__module__, c.__name__) for c in STATE_TYPES]
    )


class InlineSqliteSaver(SqliteSaver):
    """A SqliteSaver usable from async graphs, without a thread hop per operation."""

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *, config: Any, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return self.get_delta_channel_history(config=config, channels=channels)


@contextlib.contextmanager
def open_checkpointer(
    path: Path, serde: SerializerProtocol | None = None
) -> Iterator[InlineSqliteSaver]:
    """The checkpointer of one run, stored in the SQLite file ``path``."""
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        yield InlineSqliteSaver(conn, serde=serde or serializer())
    finally:
        conn.close()
