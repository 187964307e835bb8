"""Snapshots of the rendered prompts (UPDATE_SNAPSHOTS=1 rewrites them after a deliberate change)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _agent_helpers import file_registry, make_settings

from agent.context import RunContext
from agent.distill import distiller_messages
from agent.executor import executor_messages
from agent.journal import ActionJournal
from agent.llm import ScriptedLLM
from agent.llm.base import Message, ToolCall
from agent.planner import planner_messages
from agent.prompts import ROLES, system_prompt
from agent.reflector import reflector_messages
from agent.state import AgentState, ContextItem, ModelStep, SubtaskState, ToolStep

SNAPSHOTS = Path(__file__).parent / "snapshots"

STATE: AgentState = {
    "task": "Summarise sales.csv by region into report.csv, following http://127.0.0.1:8000/",
    "episode_id": "ep-1",
    "current": 1,
    "plan": [
        SubtaskState(index=0, id=0, goal="Read the guidelines page", done_when="rules known", status="done", result="region,total; sort by total"),
        SubtaskState(index=1, id=1, goal="Write report.csv", done_when="report.csv has one row per region", attempts=1, analysis="The header was missing."),
    ],
    "recalled": [
        ContextItem(id="s1", level="strategic", title="Check outputs", text="Read a file back after writing it."),
        ContextItem(id="p1", level="procedural", title="Aggregate a CSV by a column", text="When: a CSV must be summed per group\n1. python_run with csv.DictReader 2. write with a header"),
        ContextItem(id="p2", level="index", title="Fill a web form", text=""),
        ContextItem(id="t1", level="tool", title="quote paths", text="Quote paths with spaces.", tool="shell_run"),
    ],
    "trajectory": [
        ModelStep(subtask=1, attempt=1, tool_calls=[ToolCall(id="c1", name="file_read", arguments={"path": "sales.csv"})]),
        ToolStep(subtask=1, attempt=1, call_id="c1", tool="file_read", arguments={"path": "sales.csv"}, output="date,region,amount\n2026-10-01,North,120"),
        ModelStep(subtask=1, attempt=1, text="report.csv is written"),
    ],
}  # fmt: skip


def _ctx(tmp_path: Path) -> RunContext:
    settings = make_settings(tmp_path)
    profile = settings.all_profiles()["local"]
    return RunContext(
        llm=ScriptedLLM([]), registry=file_registry(), tools=None, memory=None,
        settings=settings, profile=profile, journal=ActionJournal(None),
    )  # fmt: skip


def _render(messages: list[Message]) -> str:
    out = []
    for m in messages:
        out.append(f"--- {m.role}" + (f" ({m.name})" if m.name else ""))
        out.append(m.content)
        out += [f"[tool call {c.name} {c.arguments}]" for c in m.tool_calls]
    return "\n".join(out) + "\n"


def _prompts(tmp_path: Path) -> dict[str, str]:
    ctx = _ctx(tmp_path)
    records = STATE["trajectory"]
    return {
        "planner": _render(planner_messages(STATE, ctx)),
        "replanner": _render(planner_messages({**STATE, "replan": True}, ctx)),
        "executor": _render(executor_messages(STATE, ctx, [], records)),
        "reflector": _render(reflector_messages(STATE, records)),
        "distiller": _render(distiller_messages(STATE, "failed")),
    }


@pytest.mark.parametrize("name", ["planner", "replanner", "executor", "reflector", "distiller"])
def test_prompt_snapshot(tmp_path: Path, name: str) -> None:
    text = _prompts(tmp_path)[name]
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_system_prompts_are_compact_and_static() -> None:
    for role in ROLES:
        text = system_prompt(role)
        assert len(text) < 1000, role  # about 250 tokens of English prose
        assert "{" not in text.replace('{"', "").replace("{...}", ""), role


def test_the_reflection_schema_asks_for_evidence_before_the_verdict() -> None:
    """A grammar writes properties in schema order and may skip optional ones."""
    from agent.models import Reflection

    schema = Reflection.model_json_schema()
    assert list(schema["properties"])[:2] == ["evidence", "achieved"]
    assert schema["required"][:2] == ["evidence", "achieved"]
    # a provider that ignores the schema may still omit it: the reply is kept
    assert Reflection.model_validate({"achieved": False}).evidence == ""
