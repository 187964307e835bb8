"""`journeyman session` commands between tasks: /memory, /approve, /reject, /forget-last."""

from __future__ import annotations

import io
from pathlib import Path

from _agent_helpers import answer, call, file_registry, plan, verdict
from rich.console import Console

from agent.build import build_agent
from agent.cli._session import _command
from agent.llm import ScriptedLLM
from agent.runner import run_task
from memory import MemoryStore


async def test_session_commands(settings, workspace: Path) -> None:
    store = MemoryStore.open(settings.memory.path, settings=settings.memory)
    old = store.add(
        level="procedural", scope="global", title="Write a greeting file", content="Use file_write."
    )
    sop = {
        "level": "procedural",
        "title": "Write a greeting file",
        "content": "file_write then file_read it back.",
    }
    lesson = {
        "level": "strategic",
        "title": "Prefer small steps",
        "content": "One action per step.",
    }
    llm = ScriptedLLM(
        [
            plan("write hi.txt"),
            call("file_write", path="hi.txt", content="hi"),
            answer("hi.txt written"),
            verdict(True, memory=[sop, lesson]),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry()
    )
    import time

    started = time.time()
    result = await run_task(agent, "Write hi.txt")
    assert len(result.items_written) == 3  # SOP, lesson, and the learner's skill
    out = io.StringIO()
    console = Console(file=out, width=200)
    starts = {result.thread_id: started}

    _command("/memory greeting", store, [result], starts, console)
    assert "Write a greeting file" in out.getvalue()
    new = next(i for i in result.items_written if i != old.id)
    _command(f"/reject {new}", store, [result], starts, console)
    assert store.get(new).status == "retired"
    _command(f"/approve {new}", store, [result], starts, console)
    assert store.get(new).status == "active" and store.get(new).trust == "trusted"
    assert old.id in result.items_written  # the SOP merged into the existing item
    assert store.get(old.id).version > 1
    _command("/forget-last", store, [result], starts, console)
    assert store.get(new).status == "retired"  # created by the last task: retired
    assert store.get(old.id).content == "Use file_write."  # merged into: reverted
    _command("/nonsense", store, [result], starts, console)
    assert "unknown command" in out.getvalue()
    store.close()
