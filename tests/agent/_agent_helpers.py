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
    """A model for the demo's family: it follows a skill the system suggests, and otherwise
    writes a script from the task's words and the input note (it never sees the answer)."""
    import json
    import re

    from agent.models import Distillation, Plan, Reflection

    text = "\n".join(str(m.content) for m in messages)
    task = re.search(r"^Task: (.*)$", text, re.MULTILINE)
    assert task is not None, text[:400]
    if output is Plan:
        return {"subtasks": [{"goal": task.group(1), "done_when": "the totals file is written"}]}
    if output is Reflection:
        return verdict(True)
    if output is Distillation:
        return {"lessons": []}
    done = sum(1 for m in messages if m.role == "tool")
    suggested = re.search(r"(skill_\w+) (\{.*?\})", text)
    offered = {t.name for t in tools or []}
    if done == 0 and suggested and suggested.group(1) in offered:
        return call(suggested.group(1), **json.loads(suggested.group(2)))
    source = re.search(r"^(\S+\.csv):$", text, re.MULTILINE)
    files = re.findall(r"[\w-]+\.csv", task.group(1))
    label, value = re.findall(r"\b([a-z_]+),([a-z_]+)\b", task.group(1))[-1]
    assert source is not None, text[:400]
    out = next(f for f in files if f != source.group(1))
    if done == 0:
        script = (
            "import csv, collections\n"
            "t = collections.Counter()\n"
            f"for r in csv.DictReader(open('{source.group(1)}')):\n"
            f"    t[r['{label}']] += int(r['{value}'])\n"
            f"w = csv.writer(open('{out}', 'w', newline=''))\n"
            f"w.writerow(['{label}', '{value}'])\n"
            "w.writerows(sorted(t.items()))\n"
        )
        return call("python_run", code=script)
    return answer(f"{out} written")


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


def acting_llm(goal: str, act: Any) -> Any:
    """A model that plans ``goal`` as one subtask, judges every attempt done, distils
    nothing, and otherwise replies ``act(tool_outputs, messages, tools)`` (a call or an
    answer; ``tools`` are the tools offered at that step)."""
    from agent.llm import FunctionLLM
    from agent.models import Distillation, Plan, Reflection

    def reply(messages: list[Any], tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan(goal)
        if output is Reflection:
            return verdict(True)
        if output is Distillation:
            return {"lessons": []}
        return act([m.content for m in messages if m.role == "tool"], messages, tools)

    return FunctionLLM(reply)


async def acted(
    settings: Settings,
    workspace: Path,
    task: str,
    act: Any,
    enabled: tuple[str, ...] = ("browser",),
    without: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Run ``task`` with ``acting_llm(task, act)`` and the ``enabled`` tool groups less the
    tools ``without`` names (local pages allowed, no memory, the local profile); return the
    observations' data in order."""
    from agent.build import build_agent
    from agent.runner import Event, run_task
    from tools import default_registry

    settings.tools.allowed_hosts = ["127.0.0.1"]
    agent = build_agent(
        settings, llm=acting_llm(task, act), memory=False, workspace=workspace,
        registry=default_registry(enabled=enabled).subset(
            names=[n for n in default_registry(enabled=enabled).names if n not in without]
        ), profile="local",
    )  # fmt: skip
    events: list[Event] = []
    await run_task(agent, task, on_event=events.append)
    return [e.data for e in events if e.event == "observation"]
