"""Look before you compute: an attempt opens with the shape of the goal's input files."""

from __future__ import annotations

from pathlib import Path

from _agent_helpers import answer, call, file_registry, verdict

from agent.build import build_agent
from agent.inputs import input_shapes, shape
from agent.llm import ScriptedLLM
from agent.runner import run_task


def test_table_shape_has_header_rows_and_count(tmp_path: Path) -> None:
    (tmp_path / "visits.tsv").write_text("clinic\tpatients\nNorth\t4\nSouth\t9\n")
    text = shape(tmp_path / "visits.tsv")
    assert "columns (\\t-separated): clinic, patients" in text
    assert "North\t4" in text and "(2 data rows)" in text


def test_text_shape_is_the_first_lines(tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text("\n".join(f"line {i}" for i in range(20)))
    text = shape(tmp_path / "log.txt")
    assert text.startswith("line 0\nline 1") and "line 5" not in text and "15 more lines" in text


def test_only_existing_inputs_not_outputs(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "out.csv").write_text("old\n")
    note = input_shapes("Copy a.csv to out.csv and b.csv", tmp_path, outputs={"out.csv"})
    assert "a.csv:" in note and "out.csv:" not in note and "b.csv" not in note
    assert input_shapes("What is 2+2?", tmp_path) == ""


async def test_the_first_observation_shows_the_header(settings, workspace: Path) -> None:
    (workspace / "fleet.csv").write_text("vehicle,litres\nvan,30\ncar,12\nvan,5\n")
    llm = ScriptedLLM(
        [
            call("shell_run", command="awk -F, 'NR>1{t+=$2} END{print t}' fleet.csv"),
            answer("47"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    result = await run_task(agent, "How many litres in total does fleet.csv list?")
    assert result.achieved
    first = llm.calls[0].messages  # the executor's first call (local profile: no planner)
    assert first[-1].role == "user"
    assert "columns (,-separated): vehicle, litres" in first[-1].content
