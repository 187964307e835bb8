"""Tools listed in settings.approval_tools pause the run for a person (LangGraph interrupt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _agent_helpers import answer, call, file_registry, plan, verdict

from agent.build import build_agent
from agent.llm import ScriptedLLM
from agent.runner import Event, run_task


def _script() -> ScriptedLLM:
    return ScriptedLLM(
        [
            plan("create the flag"),
            call("file_write", path="before.txt", content="x"),
            call("shell_run", command="touch flag.txt"),
            answer("tried"),
            verdict(True),
        ]
    )


async def test_non_interactive_runs_deny(settings, workspace: Path) -> None:
    settings.approval_tools = ["shell_run"]
    llm = _script()
    events: list[Event] = []
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Create flag.txt", on_event=events.append)
    assert not (workspace / "flag.txt").exists()
    assert (workspace / "before.txt").exists()
    denied = [e for e in events if e.event == "approval"]
    assert len(denied) == 1 and denied[0].data["approved"] is False
    obs = [e.data for e in events if e.event == "observation"]
    assert obs[-1]["error"].startswith("denied") and obs[-1]["executed"] is False
    assert r.outcome == "achieved"  # the scripted reflector says so; the action was still denied


async def test_approved_action_runs_once(settings, workspace: Path) -> None:
    settings.approval_tools = ["shell_run", "file_write"]
    asked: list[dict[str, Any]] = []

    async def approve(request: dict[str, Any]) -> bool:
        asked.append(request)
        return True

    agent = build_agent(
        settings, llm=_script(), memory=False, workspace=workspace, registry=file_registry()
    )
    await run_task(agent, "Create flag.txt", approve=approve)
    assert (workspace / "flag.txt").exists()
    assert [a["tool"] for a in asked] == ["file_write", "shell_run"]
