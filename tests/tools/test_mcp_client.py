"""MCP servers as tools, against real third-party servers over stdio.

``mcp-server-time`` (PyPI) and ``@modelcontextprotocol/server-filesystem`` (npm, installed by
``make mcp-servers``) run as real subprocesses; their tools go through the real registry.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mcp_servers import children, filesystem_server, kill_child, time_server

from tools import ToolContext, ToolRegistry, ToolSettings
from tools.files import FILE_TOOLS
from tools.settings import McpServerSettings


def _servers(**extra: McpServerSettings) -> list[McpServerSettings]:
    return [
        McpServerSettings(name="time", command=time_server(), read_only=True),
        McpServerSettings(
            name="fs",
            command=filesystem_server(),
            args=["{workspace}"],
            read_only=["read_text_file", "list_directory"],
        ),
        *extra.values(),
    ]


async def test_tools_of_two_servers_join_the_registry(workspace: Path) -> None:
    (workspace / "notes.txt").write_text("alpha\nbeta\n")
    settings = ToolSettings(mcp=_servers())
    async with ToolContext(workspace, settings) as ctx:
        assert ctx.mcp is not None and ctx.mcp.warnings == []
        mcp_tools = ctx.mcp.tools(taken=[t.name for t in FILE_TOOLS])
        registry = ToolRegistry([*FILE_TOOLS, *mcp_tools])
        names = registry.names
        assert {"time_get_current_time", "fs_read_text_file", "fs_write_file"} <= set(names)
        # the server's JSON schema is what the model sees, and the compact catalogue has it
        assert registry.get("time_get_current_time").parameters()["required"] == ["timezone"]
        compact = registry.describe_text(compact=True)
        assert "fs_write_file(path: string, content: string) - " in compact
        # approval: every MCP tool but those configured read-only
        approval = ctx.mcp.approval_names(mcp_tools)
        assert "time_get_current_time" not in approval and "fs_read_text_file" not in approval
        assert "fs_list_directory" not in approval
        assert "fs_write_file" in approval and "fs_move_file" in approval

        now = await registry.call("time_get_current_time", {"timezone": "Europe/Paris"}, ctx)
        assert now.ok and json.loads(now.output)["timezone"] == "Europe/Paris"
        read = await registry.call("fs_read_text_file", {"path": str(workspace / "notes.txt")}, ctx)
        assert read.ok and read.output == "alpha\nbeta\n"
        wrote = await registry.call(
            "fs_write_file", {"path": str(workspace / "out.txt"), "content": "hi"}, ctx
        )
        assert wrote.ok and (workspace / "out.txt").read_text() == "hi"


async def test_errors_are_observations(workspace: Path) -> None:
    settings = ToolSettings(mcp=_servers(), output_budget_chars=300)
    async with ToolContext(workspace, settings) as ctx:
        assert ctx.mcp is not None
        registry = ToolRegistry(ctx.mcp.tools())
        bad = await registry.call("time_get_current_time", {"tz": 3, "x": 1}, ctx)
        assert bad.error and "invalid arguments for time_get_current_time" in bad.error
        assert "timezone" in bad.error and "Send: time_get_current_time(timezone: string)" in (
            bad.error
        )
        refused = await registry.call("time_get_current_time", {"timezone": "Mars/Olympus"}, ctx)
        assert refused.error == "get_current_time reported an error"
        assert "Mars/Olympus" in refused.output
        outside = await registry.call("fs_read_text_file", {"path": "/etc/passwd"}, ctx)
        assert outside.error and "root:" not in outside.output
        (workspace / "big.txt").write_text("x" * 5000)
        big = await registry.call("fs_read_text_file", {"path": str(workspace / "big.txt")}, ctx)
        assert big.ok and big.truncated_chars > 4000 and len(big.output) <= 300


async def test_a_server_that_fails_to_start_is_one_line(workspace: Path) -> None:
    settings = ToolSettings(
        mcp=_servers(
            missing=McpServerSettings(name="missing", command=str(workspace / "no-such-server")),
            crash=McpServerSettings(
                name="crash", command="/bin/sh", args=["-c", "echo cannot open db >&2; exit 3"]
            ),
        )
    )
    async with ToolContext(workspace, settings) as ctx:
        assert ctx.mcp is not None
        warnings = ctx.mcp.warnings
        assert len(warnings) == 2 and all("\n" not in w for w in warnings)
        assert warnings[0].startswith("MCP server 'missing' failed to start: ")
        assert "no-such-server" in warnings[0] and "goes on without its tools" in warnings[0]
        assert warnings[1].startswith("MCP server 'crash' failed to start: ")
        assert "cannot open db" in warnings[1]  # the server's last stderr line says why
        assert set(ctx.mcp.connections) == {"time", "fs"}  # the others still run
        assert not any(t.name.startswith(("missing_", "crash_")) for t in ctx.mcp.tools())


async def test_a_killed_server_is_a_clear_observation(workspace: Path) -> None:
    async with ToolContext(workspace, ToolSettings(mcp=_servers())) as ctx:
        assert ctx.mcp is not None
        registry = ToolRegistry(ctx.mcp.tools())
        assert (await registry.call("time_get_current_time", {"timezone": "UTC"}, ctx)).ok
        kill_child("mcp-server-time")
        await asyncio.sleep(0.3)
        for _ in range(2):  # the first call after the death and every later one
            gone = await registry.call("time_get_current_time", {"timezone": "UTC"}, ctx)
            assert gone.error is not None
            assert gone.error.startswith("MCP server 'time' is not running (")
            assert gone.error.endswith("its tools are unavailable for the rest of this run")
        listed = await registry.call("fs_list_directory", {"path": str(workspace)}, ctx)
        assert listed.ok  # the other server is untouched


async def test_servers_stop_with_the_context(workspace: Path) -> None:
    before = {pid for pid, _ in children()}
    async with ToolContext(workspace, ToolSettings(mcp=_servers())) as ctx:
        started = [cmd for pid, cmd in children() if pid not in before]
        assert any("mcp-server-time" in c for c in started)
        assert any("mcp-server-filesystem" in c for c in started)
        assert ctx.mcp is not None
    assert {pid for pid, _ in children()} <= before


def test_a_server_needs_exactly_one_transport() -> None:
    with pytest.raises(ValueError, match="either command or url"):
        McpServerSettings(name="x")
    with pytest.raises(ValueError, match="either command or url"):
        McpServerSettings(name="x", command="a", url="http://127.0.0.1:1/mcp")
    assert McpServerSettings(name="x", url="http://127.0.0.1:1/mcp").tool_prefix == "x_"
