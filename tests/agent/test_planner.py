"""The planner: the run's subtask cap is in its prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from _agent_helpers import file_registry, make_settings

from agent.context import RunContext
from agent.journal import ActionJournal
from agent.llm import ScriptedLLM
from agent.planner import planner_messages
from agent.prompts import system_prompt

TASK = (
    "Aggregate sales.csv into a new file totals.csv with one row per region and the sum of "
    "amount for each region; columns region,total."
)


def _ctx(tmp_path: Path, llm: ScriptedLLM, profile: str, **limits: int) -> RunContext:
    settings = make_settings(tmp_path, **limits)
    return RunContext(
        llm=llm, registry=file_registry(), tools=None, memory=None, settings=settings,
        profile=settings.all_profiles()[profile], journal=ActionJournal(None),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("profile", "limit", "shown"),
    [
        ("local", 8, "At most 2 subtasks."),  # the profile's cap is lower
        ("local-small", 8, "At most 2 subtasks."),
        ("local", 1, "At most 1 subtask."),  # limits.max_subtasks is lower
        ("openai", 3, "At most 3 subtasks."),  # no cap of its own
    ],
)
def test_prompt_shows_the_lower_of_the_two_caps(
    tmp_path: Path, profile: str, limit: int, shown: str
) -> None:
    ctx = _ctx(tmp_path, ScriptedLLM([]), profile, max_subtasks=limit)
    messages = planner_messages({"task": TASK}, ctx)
    assert messages[-1].content.endswith("\n" + shown)
    assert messages[0].content == system_prompt("planner")  # the cached prefix never varies
