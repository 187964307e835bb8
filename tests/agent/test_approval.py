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
    llm = ScriptedLLM(
        [
            plan("create the flag"),
            call("file_write", path="before.txt", content="x"),
            call("shell_run", command="touch flag.txt"),
            answer("tried"),
            verdict(True),  # overruled: the denied command made no flag.txt
            call("file_write", path="flag.txt", content="f"),
            answer("flag.txt written"),
            verdict(True),
        ]
    )
    events: list[Event] = []
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Create flag.txt", on_event=events.append)
    assert (workspace / "before.txt").exists()
    denied = [e for e in events if e.event == "approval"]
    assert len(denied) == 1 and denied[0].data["approved"] is False
    shell = [e.data for e in events if e.event == "observation" and e.data["tool"] == "shell_run"]
    assert shell[0]["error"].startswith("denied") and shell[0]["executed"] is False
    # the scripted reflector said done after the denial; the missing file overruled it, and
    # the retry wrote the flag with a tool that needs no approval
    rules = [e.data["rule"] for e in events if e.event == "reflection"]
    assert rules == ["output_not_seen", None]
    assert r.outcome == "achieved" and (workspace / "flag.txt").read_text() == "f"


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
