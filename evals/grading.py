"""Grading: checkpoints with points, and the score rule.

A grader is a function ``grade(ctx: GradeContext) -> list[Checkpoint]`` that reads the
apps' stored state (Trac's SQLite, Maildirs, .ics files, bot logs, the share, the
workspace), never the agent's trajectory. Score: full = every checkpoint passed;
``score = 0.5 * passed_points / total_points + 0.5 * full``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.acme.manager import Environment
from evals.acme.state import CalendarState, ChatState, FilesState, MailState, TracState
from evals.tasks import Task


class Checkpoint(BaseModel):
    """One thing the grader checked."""

    name: str
    points: int = Field(default=1, ge=1)
    passed: bool
    detail: str = ""


class GradeResult(BaseModel):
    """A task's checkpoints and score."""

    task_id: str
    checkpoints: list[Checkpoint]
    passed_points: int
    total_points: int
    full: bool
    score: float


def combine(task_id: str, checkpoints: list[Checkpoint]) -> GradeResult:
    """Apply the score rule: 0.5 * passed/total + 0.5 * (all passed)."""
    total = sum(c.points for c in checkpoints)
    passed = sum(c.points for c in checkpoints if c.passed)
    full = total > 0 and passed == total
    score = (0.5 * passed / total + 0.5 * float(full)) if total else 0.0
    return GradeResult(
        task_id=task_id,
        checkpoints=checkpoints,
        passed_points=passed,
        total_points=total,
        full=full,
        score=round(score, 4),
    )


class GradeContext:
    """What a grader may read: the apps' state, the workspace, the task's params."""

    def __init__(self, task: Task, env: Environment, workspace: Path):
        self.task = task
        self.env = env
        self.workspace = workspace
        self.params: dict[str, Any] = task.spec.params
        self.checkpoints: list[Checkpoint] = []

    def check(self, name: str, passed: bool, points: int = 1, detail: str = "") -> bool:
        """Record a checkpoint and return whether it passed."""
        self.checkpoints.append(
            Checkpoint(name=name, points=points, passed=bool(passed), detail=detail)
        )
        return bool(passed)

    @cached_property
    def trac(self) -> TracState:
        """Trac's tickets, wiki and milestones."""
        return TracState(self.env.data_dir("trac"))

    @cached_property
    def mail(self) -> MailState:
        """The Maildirs."""
        return MailState(self.env.data_dir("mail"))

    @cached_property
    def calendar(self) -> CalendarState:
        """Radicale's stored events."""
        return CalendarState(self.env.data_dir("calendar"))

    @cached_property
    def chat(self) -> ChatState:
        """The colleague bots' log."""
        return ChatState(self.env.data_dir("chat"))

    @cached_property
    def files(self) -> FilesState:
        """The file share."""
        return FilesState(self.env.data_dir("files"))

    def workspace_text(self, path: str) -> str | None:
        """A workspace file's text, or None if absent."""
        target = self.workspace / path
        return target.read_text(errors="replace") if target.is_file() else None


def resolve(ref: str) -> Callable[..., Any]:
    """Import ``module:function``."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def grade(task: Task, env: Environment, workspace: Path) -> GradeResult:
    """Run the task's grader on the current state and apply the score rule."""
    ctx = GradeContext(task, env, workspace)
    resolve(task.spec.grader)(ctx)
    if not ctx.checkpoints:
        raise ValueError(f"grader of {task.id} recorded no checkpoint")
    return combine(task.id, ctx.checkpoints)
