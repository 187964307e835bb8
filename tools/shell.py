"""The shell tool: one bash command in the workspace, with a timeout and no secrets."""

from __future__ import annotations

import asyncio
import shutil

from pydantic import BaseModel, Field

from tools.confine import confine
from tools.context import ToolContext
from tools.errors import ToolError
from tools.netrelay import relay_for
from tools.process import clean_env, run_process, snapshot_files, with_files_written
from tools.python_env import env_dir
from tools.registry import Tool, tool
from tools.result import ToolResult


class ShellArgs(BaseModel):
    command: str = Field(description="A bash command line, run in the workspace folder.")
    timeout_s: float | None = Field(
        default=None, gt=0, description="Seconds before the command and its children are killed."
    )
    cwd: str = Field(default=".", description="Folder to run in, relative to the workspace.")


@tool(name="shell_run", group="shell", read_only=False)
async def shell_run(ctx: ToolContext, args: ShellArgs) -> ToolResult:
    """Run a shell command in the workspace, in a sandbox (no stdin; no network; output is capped)."""
    cwd = ctx.sandbox.resolve(args.cwd)
    if not cwd.is_dir():
        raise ToolError(f"{args.cwd!r} is not a folder")
    if not args.command.strip():
        raise ToolError("command is empty")
    shell = shutil.which("bash") or "/bin/sh"
    venv = env_dir(ctx)
    env = clean_env(venv=venv if (venv / "bin" / "python").exists() else None)
    timeout = min(args.timeout_s or ctx.settings.shell_timeout_s, ctx.settings.shell_max_timeout_s)
    async with relay_for(ctx.settings, ctx.settings.sandbox_network) as relay:
        argv = confine(
            [shell, "-c", args.command],
            settings=ctx.settings,
            workspace=ctx.workspace,
            cwd=cwd,
            network=ctx.settings.sandbox_network,
            writable=(venv,) if venv.is_dir() else (),
            relay=relay,
        )
        before = await asyncio.to_thread(snapshot_files, ctx.workspace)
        outcome = await run_process(
            argv,
            cwd=cwd,
            env=env,
            timeout_s=timeout,
            cap_bytes=ctx.settings.output_budget_chars * 2,
        )
    error = None
    if outcome.timed_out:
        error = (
            f"timed out after {timeout:g} s; the command and all its child processes were killed"
        )
    elif outcome.returncode != 0:
        # what failed, not only that it did: the executor's notes and the verdict quote it
        error = f"exit code {outcome.returncode}"
        if last := outcome.last_line():
            error += f": {last}"
    return ToolResult(
        output=await with_files_written(outcome.render(args.command), before, ctx.workspace),
        error=error,
        truncated_chars=outcome.cut_bytes,
        data={"returncode": outcome.returncode, "timed_out": outcome.timed_out},
    )


SHELL_TOOLS: list[Tool] = [shell_run]
