"""Scripted models for the CLI failure tests, named by ``JOURNEYMAN_LLM=_failure_llms:NAME``.

Only the model is fake: what it asks for (a browser page) runs for real.
"""

from __future__ import annotations

from typing import Any


def browser_llm(settings: Any) -> Any:
    """Plans one subtask and opens a page in the browser, so the browser must start."""
    from agent.llm import FunctionLLM
    from agent.models import Distillation, Plan, Reflection

    def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return {"subtasks": [{"goal": "Open the intranet page", "done_when": "it is shown"}]}
        if output is Reflection:
            return {"achieved": False, "evidence": "", "analysis": "no page", "memory": []}
        if output is Distillation:
            return {"lessons": []}
        return {"tool": "browser_goto", "arguments": {"url": "http://127.0.0.1:9/"}}

    return FunctionLLM(reply, name="browser-script")
