"""Run a task's oracle solution or the null run, then grade."""

from __future__ import annotations

from pathlib import Path

from evals.acme.manager import APP_NETWORK, Environment
from evals.grading import GradeResult, grade, resolve
from evals.oracles.actions import Actions
from evals.tasks import Task


async def run_oracle(task: Task, env: Environment, workspace: Path) -> tuple[GradeResult, int]:
    """Prepare the task, run its solution through the tools, grade; (result, tool calls)."""
    from tools import ToolContext, ToolSettings, default_registry

    task.prepare(env, workspace)
    registry = default_registry(enabled=("browser", "files", "shell"))
    settings = ToolSettings(sandbox_network=APP_NETWORK)  # its shell steps reach the apps
    async with ToolContext(workspace=workspace, settings=settings) as ctx:
        act = Actions(task, {**env.urls(), "workspace": str(workspace)}, registry, ctx)
        await resolve(task.spec.solution)(act)
    return grade(task, env, workspace), len(act.calls)


def run_null(task: Task, env: Environment, workspace: Path) -> GradeResult:
    """Prepare the task, do nothing, grade."""
    task.prepare(env, workspace)
    return grade(task, env, workspace)
