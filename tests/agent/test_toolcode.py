"""A tool of the run written as a Python call in python_run's code (agent.toolcode).

The curve's case was an expense table and `skill_expense_totals_column(...)`; here the
skill is learned from room bookings and called for a warehouse stock table (as in
test_proven_skill.py), and the unit cases use a parcel skill and other wordings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import answer, call, plan, verdict
from test_proven_skill import SECOND, _learned
from test_skills import file_registry_with_python

from agent.build import build_agent
from agent.config import Settings
from agent.llm import ScriptedLLM
from agent.llm.base import ToolCall
from agent.runner import run_task
from agent.targets import HELD_BACK
from agent.toolcode import as_tool_call, skill_in_code

SKILL = "skill_parcels_by_carrier"
OFFERED: dict[str, dict[str, Any]] = {
    SKILL: {
        "type": "object",
        "properties": {p: {"type": "string"} for p in ("input_file", "column", "output_file")},
        "required": ["input_file", "column", "output_file"],
    },
    "file_write": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
    },
}
ARGS = {"input_file": "shipments.tsv", "column": "carrier", "output_file": "per-carrier.csv"}


def _actions(run_dir: Path | None) -> list[dict[str, Any]]:
    """The results of the run's actions, from its journal."""
    assert run_dir is not None
    lines = (run_dir / "actions.jsonl").read_text().splitlines()
    return [e["result"] for e in map(json.loads, lines) if e["event"] == "result"]


def _code(code: str) -> ToolCall:
    return ToolCall(id="c1", name="python_run", arguments={"code": code})


@pytest.mark.parametrize(
    "code",
    [
        f"{SKILL}('shipments.tsv', 'carrier', 'per-carrier.csv')",
        f"{SKILL}('shipments.tsv', 'carrier', 'per-carrier.csv');\n",
        f"from my_skills import {SKILL}\n{SKILL}('shipments.tsv', 'carrier', output_file='per-carrier.csv')",
        f'import {SKILL}\n\n{SKILL}(input_file="shipments.tsv", column="carrier", output_file="per-carrier.csv")',
    ],
)
def test_code_that_is_only_a_call_of_an_offered_tool_is_that_call(code: str) -> None:
    lone = as_tool_call(_code(code), OFFERED)
    assert lone is not None and lone.name == SKILL and lone.arguments == ARGS and lone.id == "c1"


def test_a_registry_tool_written_as_a_lone_call_is_mapped_in_its_parameters_order() -> None:
    lone = as_tool_call(_code("file_write('notes/today.md', 'call the depot')"), OFFERED)
    assert lone is not None
    assert (lone.name, lone.arguments) == (
        "file_write",
        {"path": "notes/today.md", "content": "call the depot"},
    )


@pytest.mark.parametrize(
    "code",
    [
        "print('hello')",  # no tool
        f"x = 'shipments.tsv'\n{SKILL}(x, 'carrier', 'out.csv')",  # a variable, two statements
        f"{SKILL}(path, 'carrier', 'out.csv')",  # not a literal
        f"print({SKILL}('a', 'b', 'c'))",  # the call is inside other code
        f"{SKILL}('a', 'b', 'c', 'd')",  # one argument too many
        f"{SKILL}('a', 'b', sheet='c')",  # a keyword the tool does not have
        f"{SKILL}(*['a', 'b', 'c'])",
        f"def {SKILL}(a, b, c):\n    return a\n{SKILL}('a', 'b', 'c')",  # the code defines it
        f"import pandas\n{SKILL}('a', 'b', 'c')",  # it imports something else too
        "skill_not_offered('a')",
        "python_run('print(1)')",
        "def broken(:",
    ],
)
def test_other_code_stays_code(code: str) -> None:
    assert as_tool_call(_code(code), OFFERED) is None
    assert (
        as_tool_call(ToolCall(id="c", name="shell_run", arguments={"command": code}), OFFERED)
        is None
    )


def test_a_skill_inside_other_code_is_held_back_with_the_call_to_send() -> None:
    code = f"import csv\nrows = list(csv.reader(open('shipments.tsv')))\n{SKILL}('shipments.tsv', 'carrier', 'per-carrier.csv')\n"
    held = skill_in_code(_code(code), OFFERED)
    assert held is not None and held.startswith(HELD_BACK)
    assert "(line 3)" in held and f"send {SKILL} {json.dumps(ARGS)}" in held
    # arguments that are not literals: the parameters are named instead
    held = skill_in_code(
        _code(f"src = 'a.tsv'\nresult = {SKILL}(src, 'carrier', 'x.csv')"), OFFERED
    )
    assert held is not None and "input_file, column, output_file" in held


@pytest.mark.parametrize(
    "code",
    [
        "import csv\nfile_write('a.txt', 'b')",  # a registry tool: the NameError hint answers it
        f"def {SKILL}(a, b, c):\n    pass\n{SKILL}('a', 'b', 'c')\nprint(1)",
        "skill_gone('a')\nprint(1)",  # not offered now
    ],
)
def test_code_with_no_offered_skill_in_it_is_not_held_back(code: str) -> None:
    assert skill_in_code(_code(code), OFFERED) is None


async def _second(settings: Settings, workspace: Path, store: object, *calls: dict) -> tuple:
    """The warehouse task with the learned store: ``calls``, then a final answer judged done."""
    llm = ScriptedLLM([plan(SECOND), *calls, answer("warehouse_units.csv written"), verdict(True)])
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry_with_python()
    )
    result = await run_task(agent, SECOND)
    assert result.achieved and llm.remaining == 0
    return result, llm


async def test_a_skill_called_from_code_runs_as_the_skill(
    settings: Settings, workspace: Path
) -> None:
    store, skill, args = await _learned(settings, workspace)
    positional = ", ".join(repr(args[p.name]) for p in skill.params)
    code = f"from my_skills import {skill.tool_name}\n{skill.tool_name}({positional});"
    result, llm = await _second(settings, workspace, store, call("python_run", code=code))
    assert (workspace / "warehouse_units.csv").read_text().splitlines() == [
        "warehouse,units",
        "north,9",
        "south,3",
    ]
    [step] = _actions(result.run_dir)
    assert step["tool"] == skill.tool_name and step["arguments"] == args and not step["error"]
    assert step["output"].startswith(
        f"[python_run's code was only a call of the tool {skill.tool_name}"
    )
    assert [s["tool"] for s in step["inner"]] == [s.tool for s in skill.steps]
    # the prompt lists the skill as a tool to call, not as a Python signature to write
    prompt = next(c for c in llm.calls if c.tools).messages[1].content
    assert f"- tool {skill.tool_name}, arguments " in prompt
    assert f"{skill.tool_name}(" not in prompt
    store.close()


async def test_a_skill_inside_a_script_is_held_back_then_called(
    settings: Settings, workspace: Path
) -> None:
    store, skill, args = await _learned(settings, workspace)
    positional = ", ".join(repr(args[p.name]) for p in skill.params)
    script = f"import pandas as pd\nprint(pd.read_csv('stock.csv').shape)\n{skill.tool_name}({positional})\n"
    result, _ = await _second(
        settings, workspace, store, call("python_run", code=script), call(skill.tool_name, **args)
    )
    held, ran = _actions(result.run_dir)
    assert held["tool"] == "python_run" and not held["executed"]
    assert held["error"].startswith(HELD_BACK)
    sent = held["error"].split(f"send {skill.tool_name} ", 1)[1].removesuffix(".")
    assert json.loads(sent) == args
    assert ran["tool"] == skill.tool_name and not ran["error"]
    store.close()
