"""memory_search and memory_get against a real MemoryStore (SQLite + Chroma, offline MiniLM)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import MemorySettings, MemoryStore
from tools import ToolContext, ToolRegistry, default_registry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryStore]:
    with MemoryStore.open(tmp_path / "mem", settings=MemorySettings(lock_timeout_s=20)) as s:
        s.add(
            level="procedural",
            scope="app/trac/tickets",
            title="Close a Trac ticket",
            when_to_use="When a ticket must be resolved in Trac",
            content="1. Open the ticket.\n2. Expand 'Modify Ticket'.\n3. Choose resolve as fixed.\n4. Submit changes.",
        )
        s.add(
            level="procedural",
            scope="app/mail",
            title="Send an email with an attachment",
            when_to_use="When a report must be mailed to a colleague",
            content="1. Open webmail.\n2. Compose.\n3. Attach the file.\n4. Send.",
        )
        s.add(
            level="strategic",
            scope="global",
            title="Verify before reporting success",
            content="Re-read the saved state before saying a task is done.",
        )
        yield s


async def test_search_and_get(store: MemoryStore, tmp_path: Path) -> None:
    registry: ToolRegistry = default_registry(enabled=("memory",))
    assert registry.names == ["memory_search", "memory_get"]
    assert all(t.read_only for t in registry)
    async with ToolContext(tmp_path / "ws", memory=store) as ctx:
        found = await registry.call("memory_search", {"query": "resolve a ticket in trac"}, ctx)
        assert found.ok, found.error
        assert found.data[0]["title"] == "Close a Trac ticket"
        assert "Close a Trac ticket" in found.output and "memory_get" in found.output
        item_id = found.data[0]["id"]
        full = await registry.call("memory_get", {"id": item_id}, ctx)
        assert full.ok and "Expand 'Modify Ticket'" in full.output
        assert full.data == {"id": item_id, "title": "Close a Trac ticket"}
        by_title = await registry.call(
            "memory_get", {"title": "send an email with an attachment"}, ctx
        )
        assert "Attach the file" in by_title.output
        lessons = await registry.call(
            "memory_search", {"query": "check the result", "level": "strategic"}, ctx
        )
        assert [d["title"] for d in lessons.data] == ["Verify before reporting success"]
        missing = await registry.call("memory_get", {"id": "no-such-id"}, ctx)
        assert missing.error and "memory_search" in missing.error
        neither = await registry.call("memory_get", {}, ctx)
        assert neither.error and "id or a title" in neither.error


async def test_without_a_store(tmp_path: Path) -> None:
    registry = default_registry(enabled=("memory",))
    async with ToolContext(tmp_path / "ws") as ctx:
        res = await registry.call("memory_search", {"query": "anything"}, ctx)
        assert res.error and "no memory store" in res.error
