"""Helpers of the agent tests (scripted replies, a file-tools registry, settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.config import Settings


def make_settings(tmp_path: Path, **limits: Any) -> Settings:
    """Settings isolated in ``tmp_path`` (runs, memory), with optional limit overrides.

    The model profile is "scripted": no key, no subtask cap of its own (the local profiles
    do a task as one subtask; tests of that name ``profile="local"``).
    """
    return Settings(
        runs_dir=tmp_path / "runs",
        memory={"path": tmp_path / "memory"},
        limits=limits,
        model="scripted",
        profiles={"scripted": {"model": "scripted", "api_key_env": None}},
    )


def file_registry() -> Any:
    """Files and shell tools (no browser, no memory lookup): fast and real."""
    from tools.files import FILE_TOOLS
    from tools.registry import ToolRegistry
    from tools.shell import SHELL_TOOLS

    return ToolRegistry([*FILE_TOOLS, *SHELL_TOOLS])


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call."""
    return {"tool": tool, "arguments": arguments}


def answer(text: str) -> dict[str, Any]:
    """A scripted final answer."""
    return {"final_answer": text}


def plan(*goals: str) -> dict[str, Any]:
    """A scripted plan."""
    return {"subtasks": [{"goal": g, "done_when": f"{g} is visible"} for g in goals]}


def verdict(
    achieved: bool, analysis: str = "", memory: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A scripted reflection."""
    return {
        "achieved": achieved,
        "evidence": "seen in the observation" if achieved else "",
        "analysis": analysis,
        "memory": memory or [],
    }


def _demo_reply(messages: list[Any], tools: Any, output: Any) -> Any:
    """A model that does the demo task right and writes an SOP after it."""
    import re

    from agent.models import Distillation, Plan, Reflection

    if output is Plan:
        return {"subtasks": [{"goal": "Read the guidelines, then write report.csv from sales.csv"}]}
    if output is Reflection:
        sop = {
            "level": "procedural",
            "title": "Summarise a sales CSV by region into a report",
            "content": "1. Open the guidelines page. 2. Sum amount per region with python_run. "
            "3. Write region,total sorted by total, largest first.",
            "when_to_use": "A sales CSV must be summarised per region following guidelines.",
        }
        return {"achieved": True, "evidence": "report.csv written", "memory": [sop]}
    if output is Distillation:
        return {"lessons": []}
    done = sum(1 for m in messages if m.role == "tool")
    url = re.search(r"http://127\.0\.0\.1:\d+/", messages[1].content)
    script = (
        "import csv, collections\n"
        "t = collections.Counter()\n"
        "for r in csv.DictReader(open('sales.csv')): t[r['region']] += int(r['amount'])\n"
        "w = csv.writer(open('report.csv', 'w', newline=''))\n"
        "w.writerow(['region', 'total'])\n"
        "w.writerows(sorted(t.items(), key=lambda kv: -kv[1]))\n"
    )
    if done == 0 and url:
        return call("browser_goto", url=url.group(0))
    if done <= 1:
        return call("python_run", code=script)
    return answer("report.csv written: West 500, North 480, South 385, East 325")


def demo_llm(settings: Any) -> Any:
    """``JOURNEYMAN_LLM=_agent_helpers:demo_llm``: a scripted demo model."""
    from agent.llm import FunctionLLM

    return FunctionLLM(_demo_reply, name="demo-script")


def stubborn_llm(settings: Any) -> Any:
    """``JOURNEYMAN_LLM=_agent_helpers:stubborn_llm``: never gets a subtask verified."""
    from agent.llm import FunctionLLM
    from agent.models import Distillation, Plan, Reflection

    def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan("try")
        if output is Reflection:
            return verdict(False, analysis="nothing happened")
        if output is Distillation:
            return {"lessons": []}
        return answer("I think it is done")

    return FunctionLLM(reply, name="stubborn")
