"""A retry calls the skill its failed attempt was offered, filled in, and did not call
(agent.skillbind.skill_to_call).

The skill is learned from "total the minutes per room" (as in test_skills.py); the later
task is another table and wording: units per warehouse. Only the model is scripted.
"""

from __future__ import annotations

from pathlib import Path

from _agent_helpers import answer, call, plan, verdict
from test_skills import TASK, _first_run_script, _skills, _store, file_registry_with_python

from agent.build import build_agent
from agent.config import Settings
from agent.llm import ScriptedLLM
from agent.runner import run_task
from agent.skills import parse_skill

STOCK = "sku,warehouse,units\na1,north,5\nb2,south,3\nc3,north,4\n"
SECOND = "For each warehouse, add up the units in stock.csv and save warehouse_units.csv (columns warehouse,units)."


async def _learned(settings: Settings, workspace: Path):
    (workspace / "bookings.csv").write_text("room,minutes\nalpha,30\nbeta,45\nalpha,25\n")
    store = _store(settings)
    agent = build_agent(
        settings, llm=_first_run_script(), memory=store, workspace=workspace,
        registry=file_registry_with_python(),
    )  # fmt: skip
    assert (await run_task(agent, TASK)).achieved
    [item] = _skills(store)
    skill = parse_skill(item.content)
    assert skill is not None
    (workspace / "stock.csv").write_text(STOCK)
    names = {p.kind: p.name for p in skill.params}
    cols = {p.example: p.name for p in skill.params if p.kind == "column"}
    args = {
        names["input_file"]: "stock.csv",
        names["output_file"]: "warehouse_units.csv",
        cols["room"]: "warehouse",
        cols["minutes"]: "units",
    }
    return store, skill, args


async def test_a_retry_after_ignoring_a_filled_in_skill_calls_it(
    settings: Settings, workspace: Path
) -> None:
    store, skill, args = await _learned(settings, workspace)
    llm = ScriptedLLM(
        [
            plan(SECOND),
            # its own way, beside the filled-in call: the header is wrong, the verdict fooled
            call("file_write", path="warehouse_units.csv", content="warehouse,total\nnorth,9\n"),
            answer("written"),
            verdict(True),
            # the retry's first reply can only call the skill
            call(skill.tool_name, **args),
            answer("warehouse_units.csv written"),
            verdict(True),
            {"lessons": []},  # a retry: the episode is distilled
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry_with_python()
    )
    result = await run_task(agent, SECOND)
    assert result.achieved and result.subtasks[0].attempts == 1 and llm.remaining == 0
    first, retry = [c for c in llm.calls if c.tools and not c.messages[-1].role == "tool"][:2]
    assert skill.tool_name in {t.name for t in first.tools} and len(first.tools) > 1
    assert [t.name for t in retry.tools] == [skill.tool_name] and retry.require_tool
    assert (workspace / "warehouse_units.csv").read_text().splitlines() == [
        "warehouse,units",
        "north,9",
        "south,3",
    ]
    store.close()


async def test_a_first_attempt_and_a_retry_that_called_it_keep_every_tool(
    settings: Settings, workspace: Path
) -> None:
    store, skill, args = await _learned(settings, workspace)
    wrong = {**args, next(k for k, v in args.items() if v == "units"): "sku"}
    llm = ScriptedLLM(
        [
            plan(SECOND),
            call(skill.tool_name, **wrong),  # called, with a wrong column: fails or is wrong
            answer("written"),
            verdict(False, analysis="summed the wrong column"),
            call("python_run", code="print(1)"),  # the retry may do anything
            call(skill.tool_name, **args),
            answer("warehouse_units.csv written"),
            verdict(True),
            {"lessons": []},  # a retry: the episode is distilled
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry_with_python()
    )
    result = await run_task(agent, SECOND)
    assert result.achieved and llm.remaining == 0
    firsts = [c for c in llm.calls if c.tools and c.messages[-1].role != "tool"][:2]
    assert all(len(c.tools) > 1 for c in firsts)
    store.close()
