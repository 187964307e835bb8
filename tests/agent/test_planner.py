"""The planner: the run's subtask cap is in its prompt, and a longer plan is folded, not cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from _agent_helpers import answer, call, file_registry, make_settings, verdict
from langgraph.runtime import Runtime

from agent.build import build_agent
from agent.context import RunContext
from agent.journal import ActionJournal
from agent.llm import ScriptedLLM
from agent.planner import TASK_DONE, plan, planner_messages
from agent.prompts import system_prompt
from agent.runner import run_task
from agent.state import AgentState, SubtaskState

TASK = (
    "Aggregate sales.csv into a new file totals.csv with one row per region and the sum of "
    "amount for each region; columns region,total."
)
FOUR_STEPS = {
    "subtasks": [
        {"goal": "Read sales.csv.", "done_when": "its rows are known"},
        {"goal": "Sum amount per region.", "done_when": "a total per region is known"},
        {"goal": "Write totals.csv with columns region,total.", "done_when": "totals.csv exists"},
        {"goal": "Check totals.csv", "done_when": "totals.csv has one row per region"},
    ]
}


def _ctx(tmp_path: Path, llm: ScriptedLLM, profile: str, **limits: int) -> RunContext:
    settings = make_settings(tmp_path, **limits)
    return RunContext(
        llm=llm, registry=file_registry(), tools=None, memory=None, settings=settings,
        profile=settings.all_profiles()[profile], journal=ActionJournal(None),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("profile", "limit", "shown"),
    [
        ("local", 8, "At most 1 subtask."),  # the profile's cap is lower
        ("local-small", 8, "At most 1 subtask."),
        ("openai", 1, "At most 1 subtask."),  # limits.max_subtasks is lower
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


async def test_overflow_is_folded_into_the_last_subtask(tmp_path: Path) -> None:
    """Four planned subtasks under a cap of two: two, and no work lost."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "sales.csv").write_text("region,amount\nNorth,5\nSouth,7\nNorth,1\n")
    llm = ScriptedLLM(
        [
            FOUR_STEPS,
            call("file_read", path="sales.csv"),
            answer("North 6, South 7"),
            verdict(True),
            call("file_write", path="totals.csv", content="region,total\nNorth,6\nSouth,7\n"),
            answer("totals.csv written"),
            verdict(True),
        ]
    )
    agent = build_agent(
        make_settings(tmp_path, max_subtasks=2), llm=llm, memory=False, workspace=ws,
        registry=file_registry(), profile="scripted",
    )  # fmt: skip
    result = await run_task(agent, TASK)

    assert llm.calls[0].messages[-1].content.endswith("\nAt most 2 subtasks.")
    assert result.achieved, result
    assert [(s.goal, s.done_when) for s in result.subtasks] == [
        ("Read sales.csv.", "its rows are known"),
        (
            "Sum amount per region; then Write totals.csv with columns region,total; "
            "then Check totals.csv",
            "totals.csv has one row per region",
        ),
    ]
    assert result.usage.calls == 7 and llm.remaining == 0  # plan, then 3 calls a subtask


async def test_replan_folds_into_the_room_left(tmp_path: Path) -> None:
    """One subtask done under a cap of two: the replan gets room for one, the rest folded."""
    llm = ScriptedLLM([FOUR_STEPS])
    ctx = _ctx(tmp_path, llm, "openai", max_subtasks=2)
    done = SubtaskState(index=0, id=0, goal="Look at sales.csv", status="done", result="3 rows")
    failed = SubtaskState(index=1, id=1, goal="Do it all", status="failed", analysis="no file")
    state: AgentState = {"task": TASK, "plan": [done, failed], "replan": True, "replans": 0}

    update = await plan(state, Runtime(context=ctx))

    assert llm.calls[0].messages[-1].content.endswith("a different way.\nAt most 1 subtask.")
    assert [s.status for s in update["plan"]] == ["done", "pending"]
    new = update["plan"][1]
    assert new.goal == (
        "Read sales.csv; then Sum amount per region; then "
        "Write totals.csv with columns region,total; then Check totals.csv"
    )
    assert new.done_when == "totals.csv has one row per region"
    assert (new.index, new.id, update["current"], update["replans"]) == (1, 2, 1, 1)


async def test_a_first_plan_of_one_subtask_is_the_task_and_costs_no_call(
    tmp_path: Path,
) -> None:
    """Under a cap of one the planner could only rephrase the task: it is not asked."""
    llm = ScriptedLLM([])
    ctx = _ctx(tmp_path, llm, "openai", max_subtasks=1)

    update = await plan({"task": TASK}, Runtime(context=ctx))

    assert [(s.goal, s.done_when) for s in update["plan"]] == [(TASK, TASK_DONE)]
    assert llm.calls == [] and "usage" not in update


async def test_a_local_profile_does_the_task_as_one_subtask_without_a_planner_call(
    tmp_path: Path,
) -> None:
    """Cap 1 (the local profiles): the plan is the task; the first call is the executor's."""
    ws = tmp_path / "ws"
    ws.mkdir()
    llm = ScriptedLLM(
        [
            call("file_write", path="totals.csv", content="region,total\nNorth,6\n"),
            answer("totals.csv written"),
            verdict(True),
        ]
    )
    agent = build_agent(
        make_settings(tmp_path), llm=llm, memory=False, workspace=ws,
        registry=file_registry(), profile="local",
    )  # fmt: skip
    result = await run_task(agent, TASK)

    assert result.achieved and [s.goal for s in result.subtasks] == [TASK]
    assert llm.calls[0].tools and llm.calls[0].require_tool  # no planner call before it
    assert result.usage.calls == 3 and llm.remaining == 0


async def test_a_replan_under_cap_one_still_asks_the_planner(tmp_path: Path) -> None:
    """After a failed subtask the planner is asked for a different way (its words folded)."""
    llm = ScriptedLLM([FOUR_STEPS])
    ctx = _ctx(tmp_path, llm, "local")
    failed = SubtaskState(index=0, id=0, goal=TASK, status="failed", analysis="no pandas")
    state: AgentState = {"task": TASK, "plan": [failed], "replan": True, "replans": 0}

    update = await plan(state, Runtime(context=ctx))

    assert len(llm.calls) == 1 and "Why: no pandas" in llm.calls[0].messages[-1].content
    assert [(s.goal, s.status) for s in update["plan"]] == [(TASK, "pending")]
