"""A scripted agent run that uses the tools of real MCP servers through the registry.

``[[tools.mcp]]`` settings attach ``mcp-server-time`` (PyPI) and the npm filesystem server
(``make mcp-servers``); only the model is scripted. The run calls a tool of each, the action
journal records the calls, a tool not configured read-only waits for approval, what the
tools returned makes the attempt's lessons untrusted, and a server killed mid-run is an
observation while the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _agent_helpers import answer, call, plan, verdict
from mcp_servers import filesystem_server, kill_child, time_server

from agent.build import build_agent
from agent.config import Settings
from agent.llm import FunctionLLM
from agent.models import Plan, Reflection
from agent.run_state import JOURNAL
from agent.runner import Event, run_task
from memory import MemoryStore
from tools.settings import McpServerSettings

LESSON = {
    "level": "strategic",
    "title": "Read the clock before dating a note",
    "content": "Ask the time tool for UTC before writing a dated note.",
    "scope": "global",
}


def _attach(settings: Settings, *servers: McpServerSettings) -> None:
    """What ``[[tools.mcp]]`` entries in journeyman.toml give (default: time and fs)."""
    servers = servers or (
        McpServerSettings(name="time", command=time_server(), read_only=True),
        McpServerSettings(
            name="fs",
            command=filesystem_server(),
            args=["{workspace}"],
            read_only=["read_text_file", "list_directory"],
        ),
    )
    settings.tools = settings.tools.model_copy(update={"mcp": list(servers)})


def _script(steps: list[Any]) -> FunctionLLM:
    """Replies in order; a callable step runs (a side effect) and gives the reply."""
    pending = list(steps)

    def reply(messages: Any, tools: Any, output: Any) -> Any:
        step = pending.pop(0)
        return step() if callable(step) else step

    return FunctionLLM(reply)


def _journal(result: Any) -> list[dict[str, Any]]:
    lines = (result.run_dir / JOURNAL).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


async def test_a_run_calls_tools_of_both_servers(settings: Settings, workspace: Path) -> None:
    _attach(settings)
    (workspace / "notes.txt").write_text("meeting at noon\n")
    asked: list[str] = []

    def approve(request: dict[str, Any]) -> bool:
        asked.append(request["tool"])
        return True

    llm = _script(
        [
            plan("Write a dated copy of the notes"),
            call("time_get_current_time", timezone="UTC"),
            call("fs_read_text_file", path=str(workspace / "notes.txt")),
            call("fs_write_file", path=str(workspace / "dated.txt"), content="2026: noon"),
            answer("dated.txt written"),
            verdict(True, memory=[LESSON]),
            {"lessons": []},
        ]
    )
    events: list[Event] = []
    agent = build_agent(settings, llm=llm, workspace=workspace)
    try:
        result = await run_task(agent, "Write a dated copy of notes.txt", approve=approve,
                                on_event=events.append)  # fmt: skip
    finally:
        await agent.aclose()
    assert result.outcome == "achieved"
    assert (workspace / "dated.txt").read_text() == "2026: noon"
    assert asked == ["fs_write_file"]  # read-only by configuration: no question asked

    # the model was offered the servers' tools with their schemas
    offered = {spec.name: spec for spec in llm.calls[1].tools or []}
    assert offered["time_get_current_time"].parameters["required"] == ["timezone"]
    assert "file_read" in offered  # beside the built-in tools

    observations = [e.data for e in events if e.event == "observation"]
    assert [o["tool"] for o in observations] == [
        "time_get_current_time",
        "fs_read_text_file",
        "fs_write_file",
    ]
    assert json.loads(observations[0]["output"])["timezone"] == "UTC"
    assert observations[1]["output"] == "meeting at noon\n"

    journal = _journal(result)
    started = [e["tool"] for e in journal if e["event"] == "start"]
    assert started == ["time_get_current_time", "fs_read_text_file", "fs_write_file"]
    finished = [e["result"] for e in journal if e["event"] == "result"]
    assert [f["executed"] for f in finished] == [True, True, True]

    # what MCP tools returned is untrusted: the lesson waits as a candidate
    with MemoryStore.open(settings.memory.path, settings=settings.memory) as store:
        lesson = store.find_by_title(LESSON["title"])
        assert lesson is not None
        assert (lesson.trust, lesson.status) == ("untrusted", "candidate")


async def test_unapproved_mcp_write_is_denied(settings: Settings, workspace: Path) -> None:
    _attach(settings)
    actions = [call("fs_write_file", path=str(workspace / "x.txt"), content="x")]

    def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan("Write the file")
        if output is Reflection:
            return verdict(False)
        return actions.pop(0) if actions else answer("it was denied")

    settings.limits.max_attempts_per_subtask = 1
    events: list[Event] = []
    agent = build_agent(settings, llm=FunctionLLM(reply), memory=False, workspace=workspace)
    try:
        await run_task(agent, "Write x.txt", on_event=events.append)  # no approver: denied
    finally:
        await agent.aclose()
    assert not (workspace / "x.txt").exists()
    approvals = [e.data for e in events if e.event == "approval"]
    assert [(a["tool"], a["approved"]) for a in approvals] == [("fs_write_file", False)]
    obs = [e.data for e in events if e.event == "observation"]
    assert obs[0]["error"].startswith("denied") and obs[0]["executed"] is False


async def test_a_server_killed_mid_run(settings: Settings, workspace: Path) -> None:
    _attach(settings)

    def kill_then(step: dict[str, Any]) -> Callable[[], dict[str, Any]]:
        def go() -> dict[str, Any]:
            kill_child("mcp-server-time")
            return step

        return go

    llm = _script(
        [
            plan("Tell the time and list the folder"),
            call("time_get_current_time", timezone="UTC"),
            kill_then(call("time_get_current_time", timezone="Asia/Tokyo")),
            call("fs_list_directory", path=str(workspace)),
            answer("listed"),
            verdict(True),
        ]
    )
    (workspace / "a.txt").write_text("a")
    events: list[Event] = []
    agent = build_agent(settings, llm=llm, memory=False, workspace=workspace)
    try:
        result = await run_task(agent, "Tell the time, list the folder", on_event=events.append)
    finally:
        await agent.aclose()
    obs = [e.data for e in events if e.event == "observation"]
    assert [o["tool"] for o in obs] == [
        "time_get_current_time",
        "time_get_current_time",
        "fs_list_directory",
    ]
    assert obs[0]["error"] is None
    assert obs[1]["error"].startswith("MCP server 'time' is not running (")
    assert "unavailable for the rest of this run" in obs[1]["error"]
    assert obs[2]["error"] is None and "[FILE] a.txt" in obs[2]["output"]
    assert result.outcome == "achieved"  # the run went on without the dead server


async def test_a_server_that_cannot_start_is_one_warning(
    settings: Settings, workspace: Path
) -> None:
    _attach(settings, McpServerSettings(name="gone", command=str(workspace / "missing")))
    llm = _script([plan("List"), call("file_list", path="."), answer("ok"), verdict(True)])
    events: list[Event] = []
    agent = build_agent(settings, llm=llm, memory=False, workspace=workspace)
    try:
        result = await run_task(agent, "List the folder", on_event=events.append)
    finally:
        await agent.aclose()
    warnings = [e.data["message"] for e in events if e.event == "warning"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("MCP server 'gone' failed to start: ")
    assert result.outcome == "achieved"


async def test_small_models_see_mcp_tools_in_the_compact_catalogue(
    settings: Settings, workspace: Path
) -> None:
    from agent.build import COMPACT_TOOLS
    from agent.runner import with_mcp_tools

    _attach(settings, McpServerSettings(name="time", command=time_server()))
    settings.profiles["small"] = settings.profiles["scripted"].model_copy(
        update={"context_window": 8192, "native_tools": False, "compact_tools": True}
    )
    agent = build_agent(settings, llm=_script([]), memory=False, workspace=workspace,
                        profile="small")  # fmt: skip
    assert set(agent.registry.names) == set(COMPACT_TOOLS) - {"memory_get"}
    async with agent:
        registry, run_settings, _cache = with_mcp_tools(agent, agent.tools)
    assert registry.names[-2:] == ["time_get_current_time", "time_convert_time"]
    catalogue = registry.describe_text(compact=True)
    assert "time_get_current_time(timezone: string) - Get current time" in catalogue
    # not marked read-only: both wait for approval; the configured list is kept
    assert run_settings.approval_tools == ["time_get_current_time", "time_convert_time"]
    assert settings.approval_tools == []
