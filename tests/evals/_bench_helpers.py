"""A workspace-only suite for runner tests: its grader, and a model that learns it.

The model writes ``answer.txt`` wrong ("about 42") until the procedure it wrote through
the reflector is in its prompt, then right ("42"); replies depend on the conversation only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.llm import FunctionLLM
from agent.models import Distillation, Plan, Reflection
from evals.grading import GradeContext

SUITES = Path(__file__).parent / "bench_suites"
SOP_TITLE = "Write answers as bare values"


class Killed(BaseException):
    """Stands for a SIGKILL in the middle of a run (not an Exception: nothing catches it)."""


KILL_ON_GRADE: int | None = None
"""When set, the grade call with this number (1-based) raises :class:`Killed`."""
KILL_WHEN: Callable[[], bool] | None = None
"""When set, the killing grade call first waits (up to 60 s) until this holds: with two
workers it orders the kill after the other attempt's result is recorded."""
GRADES = 0


def grade_answer(ctx: GradeContext) -> None:
    """answer.txt exists and holds exactly the value."""
    global GRADES
    GRADES += 1
    if KILL_ON_GRADE is not None and GRADES == KILL_ON_GRADE:
        deadline = time.monotonic() + 60
        while KILL_WHEN is not None and not KILL_WHEN() and time.monotonic() < deadline:
            time.sleep(0.05)  # a grade runs in a worker thread: the event loop goes on
        raise Killed
    text = ctx.workspace_text("answer.txt")
    ctx.check("answer.txt written", text is not None)
    ctx.check("answer is the bare value", (text or "").strip() == ctx.params["value"])


async def no_solution(act: Any) -> None:
    """Not used: the runner never runs oracles."""


def _knows(messages: list[Any]) -> bool:
    return any(SOP_TITLE in m.content for m in messages if m.role in ("system", "user"))


def reply(messages: list[Any], tools: Any, output: Any) -> Any:
    """The next reply, from the conversation only."""
    if output is Plan:
        return {"subtasks": [{"goal": "write the answer file"}]}
    if output is Reflection:
        memory = []
        if not _knows(messages):
            memory = [
                {
                    "level": "procedural",
                    "title": SOP_TITLE,
                    "content": "Write the value alone into the answer file, with no words.",
                    "when_to_use": "A task asks to write an answer file containing a value.",
                    "scope": "files",
                }
            ]
        return {"achieved": True, "evidence": "written", "memory": memory}
    if output is Distillation:
        return {"lessons": []}
    if any(m.role == "tool" for m in messages):
        return {"final_answer": "written"}
    text = "\n".join(m.content for m in messages if m.role == "user")
    value = re.search(r"containing `([^`]+)`", text)
    answer = value.group(1) if value else "?"
    content = answer if _knows(messages) else f"about {answer}"
    return {"tool": "file_write", "arguments": {"path": "answer.txt", "content": content}}


def build(settings: Settings | None = None) -> FunctionLLM:
    """The learner model."""
    return FunctionLLM(reply, name="answer-learner")
