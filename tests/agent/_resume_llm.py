"""A stateless scripted model for the kill-and-resume test, loaded through ``$JOURNEYMAN_LLM``.

Each reply is a function of the conversation only, so a fresh process after a SIGKILL
picks up where the old one stopped. Every action appends a unique marker to log.txt, then
sleeps, so that the test can kill the run in the middle of an action.
"""

from __future__ import annotations

import re
from typing import Any

from agent.llm import FunctionLLM
from agent.models import Distillation, Plan, Reflection

ACTIONS_PER_SUBTASK = 4


def reply(messages: list[Any], tools: Any, output: Any) -> Any:
    if output is Plan:
        return {"subtasks": [{"goal": "log the first markers"}, {"goal": "log the second markers"}]}
    if output is Reflection:
        return {"achieved": True, "evidence": "markers logged"}
    if output is Distillation:
        return {"lessons": []}
    subtask = re.search(r"Now do subtask (\d+)", messages[1].content)
    n = sum(1 for m in messages if m.role == "tool")
    if n >= ACTIONS_PER_SUBTASK:
        return {"final_answer": "logged"}
    marker = f"s{subtask.group(1) if subtask else '?'}-{n}"
    return {"tool": "shell_run", "arguments": {"command": f"echo {marker} >> log.txt; sleep 0.4"}}


def build(settings: Any) -> FunctionLLM:
    """The factory named in ``JOURNEYMAN_LLM=_resume_llm:build``."""
    return FunctionLLM(reply, name="resume-script")
