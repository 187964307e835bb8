"""A skill's arguments filled from a new subtask by code (agent.skillbind).

The skill here is the one the learner induces from "total the minutes per room" (see
test_skills.py); the subtasks are other tasks of that kind, worded and laid out in ways
the skill never saw: the columns named in the other order, spelled with spaces, a
numeric column to group by, extra files, a file name missing from the goal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.skillbind import column_types, propose_arguments, skill_note, suggestion
from agent.skills import Skill, SkillParam, SkillStep
from agent.state import ContextItem


def _skill() -> Skill:
    return Skill(
        name="total_column_per_column_input_file",
        when_to_use=(
            "Total the <column_2> per <column> in <input_file> and write <output_file> "
            "with the columns <column>,<column_2>."
        ),
        params=[
            SkillParam(name="column_2", kind="column", example="minutes", values="number"),
            SkillParam(name="column", kind="column", example="room", values="text"),
            SkillParam(name="input_file", kind="input_file", example="bookings.csv"),
            SkillParam(name="output_file", kind="output_file", example="room_minutes.csv"),
        ],
        steps=[SkillStep(tool="python_run", arguments={"code": "..."}, code=True)],
    )


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    (tmp_path / "shipments.csv").write_text(
        "id,carrier,weight_kg,destination\n1,dhl,2.5,oslo\n2,ups,1,rome\n3,dhl,4,oslo\n"
    )
    (tmp_path / "sales.tsv").write_text(
        "year\tunits sold\tregion\n2021\t5\tnorth\n2022\t7\tsouth\n"
    )
    (tmp_path / "notes.txt").write_text("read me\n")
    return tmp_path


def test_column_types_read_from_the_table(ws: Path) -> None:
    assert column_types(ws / "shipments.csv") == {
        "id": "number",
        "carrier": "text",
        "weight_kg": "number",
        "destination": "text",
    }
    assert column_types(ws / "missing.csv") == {}


@pytest.mark.parametrize(
    "goal",
    [
        # value first, group second (the skill's own order)
        "Total the weight_kg per destination in shipments.csv and write dest_weight.csv.",
        # group first, value second: the types put them right
        "For each destination in shipments.csv, add up weight_kg; save dest_weight.csv.",
        # a column spelled with a space, and another file named too
        "Using shipments.csv (see notes.txt), sum the weight kg by destination into dest_weight.csv",
    ],
)
def test_columns_go_where_their_types_fit_whatever_the_wording(ws: Path, goal: str) -> None:
    args = propose_arguments(_skill(), goal, ws)
    assert args == {
        "input_file": "shipments.csv",
        "output_file": "dest_weight.csv",
        "column": "destination",
        "column_2": "weight_kg",
    }


@pytest.mark.parametrize(
    "goal",
    [
        "In sales.tsv add up units sold for every region and write per_year.tsv",
        "For every region, add up units sold in sales.tsv into per_year.tsv",
    ],
)
def test_text_never_takes_the_place_of_the_summed_numbers(ws: Path, goal: str) -> None:
    args = propose_arguments(_skill(), goal, ws)
    assert (args["column_2"], args["column"]) == ("units sold", "region")
    assert args["input_file"] == "sales.tsv" and args["output_file"] == "per_year.tsv"


@pytest.mark.parametrize(
    "goal",
    [
        "In sales.tsv add up units sold for every year and write per_year.tsv",
        "For every year, add up units sold in sales.tsv into per_year.tsv",
    ],
)
def test_columns_the_types_cannot_tell_apart_are_left_to_the_model(ws: Path, goal: str) -> None:
    # 'year' and 'units sold' are both numbers: either could be the label; no guess
    args = propose_arguments(_skill(), goal, ws)
    assert args == {"input_file": "sales.tsv", "output_file": "per_year.tsv"}


def test_what_the_subtask_does_not_give_is_left_to_the_model(ws: Path) -> None:
    skill = _skill()
    # no output file named, and three columns mentioned for two parameters
    goal = "Group shipments.csv by carrier and destination and total weight_kg."
    args = propose_arguments(skill, goal, ws)
    assert args == {"input_file": "shipments.csv"}
    note = suggestion(skill, args)
    filled = json.loads(note.split(f"{skill.tool_name} ", 2)[-1].split("}", 1)[0] + "}")
    assert filled == {
        "column_2": "?",
        "column": "?",
        "input_file": "shipments.csv",
        "output_file": "?",
    }
    assert note.endswith("Fill in column_2, column, output_file from the task.")


def test_a_file_the_run_wrote_is_not_an_input(ws: Path) -> None:
    (ws / "dest_weight.csv").write_text("destination,weight_kg\n")
    goal = "Total the weight_kg per destination in shipments.csv and write dest_weight.csv."
    args = propose_arguments(_skill(), goal, ws, outputs={"dest_weight.csv"})
    assert args["input_file"] == "shipments.csv" and args["output_file"] == "dest_weight.csv"


def test_the_note_names_the_best_skill_and_nothing_without_one(ws: Path) -> None:
    skill = _skill()
    goal = "Total the weight_kg per destination in shipments.csv and write dest_weight.csv."
    items = [
        ContextItem(id="p-1", level="procedural", title="an SOP", text="do this"),
        ContextItem(id="k-1", level="skill", title="t", text=skill.model_dump_json(), tool="x"),
    ]
    note = skill_note(items, goal, ws)
    assert note.startswith("A skill learned from an earlier verified attempt fits this subtask")
    assert '"column": "destination"' in note and '"input_file": "shipments.csv"' in note
    assert skill_note(items[:1], goal, ws) == ""


@pytest.mark.parametrize(
    "tools",
    [
        "Apps: the depot share at http://127.0.0.1:9 (to upload, e.g. "
        "`curl -T upload.csv http://127.0.0.1:9/Inbox/upload.csv`)",
        "Copy results with `scp out.tsv ops@127.0.0.1:/srv/out.tsv` or "
        "`wget -O x.csv http://127.0.0.1:9/x.csv`.",
    ],
)
def test_files_of_an_example_command_are_not_the_task_s_outputs(ws: Path, tools: str) -> None:
    """A task that says how its apps are used quotes a command with files of its own; they
    are not outputs (the output went unfilled beside the example's `report.csv`)."""
    goal = f"Sum the weight_kg for each destination of shipments.csv into dest_weight.csv.\n{tools}"
    args = propose_arguments(_skill(), goal, ws)
    assert args["output_file"] == "dest_weight.csv", args
    # a file named in the task itself still counts, backticked or not
    goal2 = "Sum weight_kg per destination of `shipments.csv` into `dest_weight.csv`."
    assert propose_arguments(_skill(), goal2, ws)["output_file"] == "dest_weight.csv"


def test_a_skill_the_subtask_gives_no_value_to_is_not_put_first(ws: Path) -> None:
    """A skill whose parameters are words it wrote (a ticket's title into a file) fits no
    other task by code: the note goes to the next skill that the subtask does fill."""
    words = Skill(
        name="text",
        when_to_use="<text_2> #7 <text> #2",
        params=[
            SkillParam(name="text", kind="text", example="blocks"),
            SkillParam(name="text_2", kind="text", example="Issue"),
        ],
        steps=[SkillStep(tool="file_write", arguments={"path": "i.txt", "content": "{{text}}"})],
    )
    goal = "Total the weight_kg per destination in shipments.csv and write dest_weight.csv."
    items = [
        ContextItem(id="k-1", level="skill", title="t", text=words.model_dump_json(), tool="a"),
        ContextItem(id="k-2", level="skill", title="t", text=_skill().model_dump_json(), tool="b"),
    ]
    note = skill_note(items, goal, ws)
    assert _skill().tool_name in note and words.tool_name + " " not in note
    assert skill_note(items[:1], goal, ws) == ""
    # a skill without parameters needs no value to fit
    fixed = words.model_copy(update={"params": [], "when_to_use": "Refresh the dashboard"})
    only = [ContextItem(id="k-3", level="skill", title="t", text=fixed.model_dump_json())]
    assert skill_note(only, "Refresh the dashboard", ws).startswith("A skill learned")


def test_a_stored_skill_with_a_header_name_taken_for_a_column_is_filled_by_its_place(
    tmp_path: Path,
) -> None:
    """A skill as the fcbf833 curve stored it: the output header's `total`, which no input
    table had (its values unknown), a third column. No task mentions three columns, so it was
    offered with "?"; the name at its place in the new header fills it now."""
    stored = Skill(
        name="sum_claims_per_column",
        when_to_use=(
            "Sum the claims per <column>: Sum the `<column_2>` column of `<input_file>` on the "
            "file share for each <column> and put the sums into `<output_file>` in your "
            "workspace (header `<column>,<column_3>`, two decimals)."
        ),
        params=[
            SkillParam(name="input_file", kind="input_file", example="Finance/claims-6343.csv"),
            SkillParam(name="column", kind="column", example="category", values="text"),
            SkillParam(name="column_2", kind="column", example="amount", values="number"),
            SkillParam(name="column_3", kind="column", example="total"),
            SkillParam(name="output_file", kind="output_file", example="summary.csv"),
        ],
        steps=[SkillStep(tool="python_run", arguments={"code": "..."}, code=True)],
    )
    (tmp_path / "timesheets").mkdir()
    (tmp_path / "timesheets/w48.csv").write_text("person,project,hours\nana,web,2.5\nbo,app,3\n")
    goal = (
        "Kim needs the week's hours per project: total `timesheets/w48.csv` and write "
        "`hours.csv` (header `project,hours_total`)."
    )
    assert propose_arguments(stored, goal, tmp_path) == {
        "input_file": "timesheets/w48.csv",
        "output_file": "hours.csv",
        "column": "project",
        "column_2": "hours",
        "column_3": "hours_total",
    }
