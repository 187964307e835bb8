"""A scripted model that learns the smoke suite: for benchmark tests and a runnable example.

    journeyman bench run smoke --model evals.bench.scripted:build --protocol continual

It knows how to do each smoke task only half right ("novice"), and how to do it fully
("expert"). It acts as an expert only when the procedure it wrote in an earlier task
(through the reflector's memory edit) is in its prompt, so with a carried store the score
rises from the second pass, and with memory off it stays flat. Every reply is a function
of the conversation alone, so a run killed and resumed in a fresh process replays exactly.
Tasks it does not know end at once with a final answer.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.llm import FunctionLLM
from agent.llm.base import Message, ToolSpec
from agent.models import Distillation, Plan, Reflection

_CLIENT = Path(__file__).resolve().parent.parent / "oracles" / "acme_client.py"
_HEREDOC = "JM_ACME_CLIENT"
_URL = re.compile(r"\bhttp://127\.0\.0\.1:\d+[^\s)]*")


@dataclass(frozen=True)
class _Know:
    """What the script knows about one task: two ways to do it, and the lesson between."""

    novice: str
    expert: str
    sop_title: str
    sop_content: str


KNOWN: dict[str, _Know] = {
    "Close duplicate ticket #5": _Know(
        novice="trac-update --id 5 --comment 'Duplicate of #2.'",
        expert="trac-update --id 5 --comment 'Duplicate of #2.' --action resolve "
        "--resolution duplicate",
        sop_title="Close a duplicate Trac ticket",
        sop_content="A comment alone leaves the ticket open: submit the ticket form with "
        "action 'resolve' and resolution 'duplicate', and a comment naming the original (#N).",
    ),
    "Create milestone v2.5": _Know(
        novice="trac-milestone --name v2.5",
        expert="trac-milestone --name v2.5 --due 2026-12-18 --description 'Theme: billing.'",
        sop_title="Create a Trac milestone with due date and description",
        sop_content="Adding a milestone by name alone loses the rest: give the due date "
        "(YYYY-MM-DD) and the description in the same step, then check the roadmap.",
    ),
}


def _title(messages: list[Message]) -> str:
    """The task's heading (``# ...``) as it appears in the first user message."""
    for m in messages:
        if m.role == "user":
            match = re.search(r"^(?:Task: )?# (.+)$", m.content, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return ""


def _know(messages: list[Message]) -> _Know | None:
    return KNOWN.get(_title(messages))


def reply(
    messages: list[Message], tools: list[ToolSpec] | None, output: type[BaseModel] | None
) -> Any:
    """The next reply, computed from the conversation only."""
    know = _know(messages)
    title = _title(messages) or "the task"
    if output is Plan:
        return {"subtasks": [{"goal": title, "done_when": "the apps show the change"}]}
    if output is Reflection:
        edit = []
        if know is not None and not _knows_sop(messages, know):
            edit = [
                {
                    "level": "procedural",
                    "title": know.sop_title,
                    "content": know.sop_content,
                    "when_to_use": f"A task like: {title}",
                    "scope": "app/trac",
                }
            ]
        return {"achieved": True, "evidence": "the command reported success", "memory": edit}
    if output is Distillation:
        return {"lessons": []}
    if output is not None:
        return {}
    done = sum(1 for m in messages if m.role == "tool")
    if know is None or done >= 1:
        return {"final_answer": "done" if know else "I do not know how to do this task."}
    url = next((u for m in messages for u in _URL.findall(m.content)), "")
    args = shlex.split(know.expert if _knows_sop(messages, know) else know.novice)
    # the client's source goes in with the command (a heredoc read by ``python3 -``): the
    # sandboxed shell sees neither journeyman's project nor its interpreter
    command = shlex.join(["python3", "-", args[0], "--url", url.rstrip("/."), *args[1:]])
    command += f" <<'{_HEREDOC}'\n{_CLIENT.read_text()}\n{_HEREDOC}"
    return {"tool": "shell_run", "arguments": {"command": command}}


def _knows_sop(messages: list[Message], know: _Know) -> bool:
    return any(know.sop_title in m.content for m in messages if m.role in ("system", "user"))


def build(settings: Any = None) -> FunctionLLM:
    """The factory for ``$JOURNEYMAN_LLM`` / ``--model evals.bench.scripted:build``."""
    return FunctionLLM(reply, name="smoke-learner")
