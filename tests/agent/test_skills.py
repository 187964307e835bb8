"""Skills induced by code from verified attempts, replayed, offered as tools and used.

Only the model is scripted: the tools, the memory store (SQLite + Chroma) and the
workspace are real.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _agent_helpers import answer, call, file_registry, plan, verdict

from agent.build import build_agent
from agent.config import Settings
from agent.learn import replay
from agent.llm import FunctionLLM, ScriptedLLM
from agent.models import Distillation, Plan, Reflection
from agent.runner import Event, RunResult, run_task
from agent.skills import Skill, SkillStep, induce, parse_skill
from agent.state import ContextItem, NoteStep, ToolStep
from memory import MemoryStore
from tools import ToolSettings

BOOKINGS = "room,minutes\nalpha,30\nbeta,45\nalpha,25\ngamma,60\n"
SCRIPT = (
    "import csv\n"
    "t = {}\n"
    "for r in csv.DictReader(open('bookings.csv')):\n"
    "    t[r['room']] = t.get(r['room'], 0) + int(r['minutes'])\n"
    "w = csv.writer(open('room_minutes.csv', 'w', newline=''))\n"
    "w.writerow(['room', 'minutes'])\n"
    "w.writerows(sorted(t.items()))\n"
)
TASK = "Total the minutes per room in bookings.csv and write room_minutes.csv with the columns room,minutes."


def _first_run_script() -> ScriptedLLM:
    """A 3-step attempt: read the input, compute with a script, read the output back."""
    return ScriptedLLM(
        [
            plan(TASK),
            call("file_read", path="bookings.csv"),
            call("python_run", code=SCRIPT),
            call("file_read", path="room_minutes.csv"),
            answer("room_minutes.csv written"),
            verdict(True),
        ]
    )


async def _run(agent: Any, task: str) -> tuple[RunResult, list[ToolStep]]:
    """Run a task; the result and the tool steps of its trajectory, in order."""
    steps: list[ToolStep] = []

    def on_event(e: Event) -> None:
        if e.event == "observation":
            steps.append(ToolStep.model_validate(e.data))

    return await run_task(agent, task, on_event=on_event), steps


def _exists(path: str) -> bool:
    return Path(path).exists()


def _store(settings: Settings) -> MemoryStore:
    return MemoryStore.open(settings.memory.path, settings=settings.memory)


def _skills(store: MemoryStore, status: str | None = None) -> list:
    return store.list_items(level="skill", status=status)


async def test_skill_induced_from_a_file_attempt_and_replayed(
    settings: Settings, workspace: Path
) -> None:
    (workspace / "bookings.csv").write_text(BOOKINGS)
    store = _store(settings)
    agent = build_agent(
        settings, llm=_first_run_script(), memory=store, workspace=workspace,
        registry=file_registry_with_python(),
    )  # fmt: skip
    result = await run_task(agent, TASK)
    assert result.achieved
    [item] = _skills(store)
    assert item.status == "active" and item.id in result.items_written
    skill = parse_skill(item.content)
    assert skill is not None
    assert sorted(p.kind for p in skill.params) == [
        "column", "column", "input_file", "output_file"
    ]  # fmt: skip
    examples = {p.name: p.example for p in skill.params}
    assert examples["input_file"] == "bookings.csv"
    assert examples["output_file"] == "room_minutes.csv"
    assert {examples["column"], examples["column_2"]} == {"room", "minutes"}
    # the reads whose output nothing used are left out; the script is templated
    assert [s.tool for s in skill.steps] == ["python_run"]
    code = skill.steps[0].arguments["code"]
    assert "{{input_file}}" in code and "bookings.csv" not in code
    history = store.history(item.id)
    assert "replayed on a fresh copy of the start state" in history[0].reason
    store.close()


def file_registry_with_python():
    """Files, shell and python_run: what a CSV task uses."""
    from tools.python_env import PYTHON_TOOLS
    from tools.registry import ToolRegistry

    return ToolRegistry([*file_registry(), *PYTHON_TOOLS])


async def test_skill_is_called_in_a_later_differently_worded_task(
    settings: Settings, workspace: Path
) -> None:
    (workspace / "bookings.csv").write_text(BOOKINGS)
    store = _store(settings)
    registry = file_registry_with_python()
    agent = build_agent(
        settings, llm=_first_run_script(), memory=store, workspace=workspace, registry=registry
    )
    assert (await run_task(agent, TASK)).achieved
    [item] = _skills(store)
    skill = parse_skill(item.content)
    assert skill is not None

    (workspace / "expenses.csv").write_text("owner,euros\nmia,10\nleo,7\nmia,2\n")
    second = "From expenses.csv, total the euros of each owner into owner_euros.csv (columns owner,euros)."
    names = {p.kind: p.name for p in skill.params}
    args = {
        names["input_file"]: "expenses.csv",
        names["output_file"]: "owner_euros.csv",
    }
    cols = {p.example: p.name for p in skill.params if p.kind.startswith("column")}
    args[cols["room"]] = "owner"
    args[cols["minutes"]] = "euros"
    llm = ScriptedLLM(
        [
            plan(second),
            call(skill.tool_name, **args),
            answer("owner_euros.csv written"),
            verdict(True),
        ]
    )
    agent = build_agent(settings, llm=llm, memory=store, workspace=workspace, registry=registry)
    result, steps = await _run(agent, second)
    assert result.achieved
    # the catalogue the executor saw offered the skill with its typed signature
    executor_call = next(c for c in llm.calls if c.tools)
    offered = {t.name: t for t in executor_call.tools}
    assert skill.tool_name in offered
    assert set(offered[skill.tool_name].parameters["required"]) == set(args)
    # and the call itself was put in front of it, filled in by code from the new task:
    # the columns by their types (room/owner text, minutes/euros numbers), not their order
    assert {p.example: p.values for p in skill.params if p.kind == "column"} == {
        "room": "text",
        "minutes": "number",
    }
    seen = "\n".join(str(m.content) for m in executor_call.messages)
    assert f"fits this subtask: {skill.tool_name}" in seen
    assert f"{skill.tool_name} {json.dumps({p.name: args[p.name] for p in skill.params})}" in seen
    # what ran: the skill call, and its effect in the workspace
    assert [s.tool for s in steps] == [skill.tool_name]
    assert "Skill steps: 1. python_run ok" in steps[0].output
    assert steps[0].output.endswith("give your final answer now.")
    assert (workspace / "owner_euros.csv").read_text().splitlines() == [
        "owner,euros",
        "leo,7",
        "mia,12",
    ]
    history = [v.reason for v in store.history(item.id)]
    assert any(r.startswith("used: every step succeeded") for r in history)
    store.close()


def test_typed_by_hand_yields_no_skill() -> None:
    records = [
        ToolStep(
            call_id="1", tool="file_read", arguments={"path": "bookings.csv"}, output=BOOKINGS
        ),
        ToolStep(
            call_id="2",
            tool="file_write",
            arguments={
                "path": "room_minutes.csv",
                "content": "room,minutes\nalpha,55\nbeta,45\ngamma,60\n",
            },
            output="wrote room_minutes.csv",
        ),
    ]
    got = induce(
        TASK, TASK, records, read_only=lambda n: n == "file_read", group=lambda n: "files",
        start_files={"bookings.csv"},
    )  # fmt: skip
    assert isinstance(got, str) and "typed by hand" in got and "'55'" in got


def test_value_from_an_observation_keeps_the_step_that_produced_it() -> None:
    """A column name the task does not say, read from the file's header: the read stays in
    the skill and the value is taken from the same place of its output at run time."""
    header = "region;total_eur\nnorth;4\n"
    code = "import pandas as pd\npd.read_csv('sales_q1.csv', sep=';')['total_eur'].sum()"
    records = [
        ToolStep(call_id="1", tool="file_read", arguments={"path": "sales_q1.csv"}, output=header),
        ToolStep(call_id="2", tool="python_run", arguments={"code": code}, output="4"),
    ]
    task = "Print the sum of the money column of sales_q1.csv."
    skill = induce(
        task, task, records, read_only=lambda n: n == "file_read",
        group=lambda n: "files" if n.startswith("file") else "python", start_files={"sales_q1.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    assert [s.tool for s in skill.steps] == ["file_read", "python_run"]
    [derived] = skill.derived
    assert derived.example == "total_eur" and derived.step == 0
    assert "{{" + derived.name + "}}" in skill.steps[1].arguments["code"]


def test_note_on_inputs_counts_as_given() -> None:
    """Column names shown by the framework's input note become parameters (kind column)."""
    note = NoteStep(
        text="The input files:\nlog.csv:\ncolumns (,-separated): who, mins", purpose="info"
    )
    records = [
        note,
        ToolStep(
            call_id="1",
            tool="python_run",
            arguments={
                "code": "import csv\nrows = list(csv.DictReader(open('log.csv')))\nopen('out.txt','w').write(str(sum(int(r['mins']) for r in rows)))"
            },
            output="",
        ),
    ]
    task = "Write the total of the minutes in log.csv to out.txt."
    skill = induce(
        task, task, records, read_only=lambda n: False, group=lambda n: "python",
        start_files={"log.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    assert {(p.kind, p.example) for p in skill.params} == {
        ("input_file", "log.csv"),
        ("output_file", "out.txt"),
        ("column", "mins"),
    }


def _calls_skill_once(tool_name: str, arguments: dict[str, Any], goal: str) -> FunctionLLM:
    """A model that calls one skill, then answers; its verdicts are failures."""

    def reply(messages: list[Any], tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan(goal)
        if output is Reflection:
            return verdict(False, analysis="not done")
        if output is Distillation:
            return {"lessons": []}
        if not any(m.role == "tool" for m in messages):
            return call(tool_name, **arguments)
        return answer("stopped")

    return FunctionLLM(reply)


POISON = ["../outside.txt", "/tmp/jm-skill-poison.txt"]


def _poisoned(path: str) -> Skill:
    return Skill(
        name="save_meeting_notes",
        when_to_use="Save the notes of a meeting into a file.",
        steps=[SkillStep(tool="file_write", arguments={"path": path, "content": "x"})],
    )


@pytest.mark.parametrize("poison", POISON)
async def test_poisoned_skill_body_is_refused_at_use(
    settings: Settings, workspace: Path, poison: str
) -> None:
    """A skill body is data: a step that writes outside the workspace is refused by the
    file tool exactly as a model's call would be, and the skill stops there."""
    store = _store(settings)
    bad = _poisoned(poison)
    store.propose(
        level="skill", scope="files", title=bad.name, content=bad.model_dump_json(),
        when_to_use=bad.when_to_use, actor="test",
    )  # fmt: skip
    goal = "Save the notes of the meeting into a file."
    llm = _calls_skill_once(bad.tool_name, {}, goal)
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry()
    )
    _result, steps = await _run(agent, goal)
    step = steps[0]
    assert step.tool == bad.tool_name and step.error
    assert "Stopped: step 1 (file_write) failed" in step.output
    assert not (workspace.parent / "outside.txt").exists()
    assert not _exists("/tmp/jm-skill-poison.txt")
    store.close()


@pytest.mark.parametrize("poison", POISON)
async def test_poisoned_skill_body_is_refused_at_replay(tmp_path: Path, poison: str) -> None:
    start = tmp_path / "start"
    start.mkdir()
    ctx = SimpleNamespace(registry=file_registry(), tools=SimpleNamespace(settings=ToolSettings()))
    ok, note = await replay(ctx, _poisoned(poison), start, {})  # type: ignore[arg-type]
    assert not ok and "replay failed: step 1 (file_write) failed" in note
    assert not (tmp_path / "outside.txt").exists()


def test_skills_in_the_memory_cli(tmp_path: Path) -> None:
    """`memory list --level skill`, `show` (signature and steps), `history` (replay and
    uses), and export/import carry skills."""
    from typer.testing import CliRunner

    from agent.cli import app

    records = [
        NoteStep(text="bookings.csv:\ncolumns (,-separated): room, minutes", purpose="info"),
        ToolStep(call_id="1", tool="python_run", arguments={"code": SCRIPT}, output=""),
    ]
    skill = induce(
        TASK, TASK, records, read_only=lambda n: False, group=lambda n: "python",
        start_files={"bookings.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    path = tmp_path / "mem"
    with MemoryStore.open(path) as store:
        res = store.propose(
            level="skill", scope="files/csv", title=skill.name, content=skill.model_dump_json(),
            when_to_use=skill.when_to_use, actor="learner", reason="replayed: room_minutes.csv equal",
        )  # fmt: skip
        assert res.item is not None
        store.note(res.item.id, actor="executor", reason="used: every step succeeded")
        item_id = res.item.id
    run = CliRunner()
    listed = run.invoke(app, ["memory", "list", "--level", "skill", "--memory", str(path)])
    assert listed.exit_code == 0 and item_id in listed.output
    shown = run.invoke(app, ["memory", "show", item_id, "--memory", str(path)])
    assert shown.exit_code == 0
    assert skill.tool_name in shown.output and "1. python_run" in shown.output
    assert "input_file (input_file), e.g. 'bookings.csv'" in shown.output
    hist = run.invoke(app, ["memory", "history", item_id, "--memory", str(path), "--json"])
    reasons = [v["reason"] for v in json.loads(hist.output)]
    assert any("replayed" in r for r in reasons) and any(r.startswith("used") for r in reasons)
    out = tmp_path / "items.jsonl"
    assert run.invoke(app, ["memory", "export", str(out), "--memory", str(path)]).exit_code == 0
    other = tmp_path / "other"
    imported = run.invoke(app, ["memory", "import", str(out), "--memory", str(other)])
    assert imported.exit_code == 0, imported.output
    with MemoryStore.open(other) as store:
        [copy] = store.list_items(level="skill")
        assert parse_skill(copy.content) == skill


def test_a_value_cannot_break_out_of_a_string_in_code() -> None:
    """Parameters fill string literals of a program escaped: a value is data, not code."""
    import ast

    from agent.skills import fill

    evil = "x.csv'); import os; os.system('touch pwned'); ('"
    code = fill("open('{{input_file}}').read()", {"input_file": evil}, code=True)
    tree = ast.parse(code)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert len(calls) == 2  # open(...) and .read(): no os.system
    opened = next(c for c in calls if getattr(c.func, "id", "") == "open")
    assert isinstance(opened.args[0], ast.Constant) and opened.args[0].value == evil


def test_a_step_needing_approval_makes_the_skill_need_it() -> None:
    from agent.executor import _needs_approval

    skill = Skill(name="rm", when_to_use="x", steps=[SkillStep(tool="file_delete")])
    state: Any = {
        "subtask_items": [
            ContextItem(
                id="k-1", level="skill", title="rm", text=skill.model_dump_json(),
                tool=skill.tool_name,
            )
        ]
    }  # fmt: skip
    ctx: Any = SimpleNamespace(settings=SimpleNamespace(approval_tools=["file_delete"]))
    assert _needs_approval(state, ctx, skill.tool_name)
    ctx.settings.approval_tools = ["shell_run"]
    assert not _needs_approval(state, ctx, skill.tool_name)


async def test_a_file_an_earlier_attempt_wrote_stays_an_output(
    settings: Settings, workspace: Path
) -> None:
    """Attempt 1 types the output by hand and fails; attempt 2 computes it and is verified.
    The output existed when attempt 2 started, but the run created it: an output, not an input."""
    (workspace / "bookings.csv").write_text(BOOKINGS)
    store = _store(settings)
    llm = ScriptedLLM(
        [
            plan(TASK),
            call("file_write", path="room_minutes.csv", content="room,minutes\nalpha,1\n"),
            answer("room_minutes.csv written"),
            verdict(False, analysis="The totals were typed, not computed."),
            call("python_run", code=SCRIPT),
            call("file_read", path="room_minutes.csv"),
            answer("room_minutes.csv written"),
            verdict(True),
            {"lessons": []},  # the distiller (the run had a failed attempt)
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace,
        registry=file_registry_with_python(),
    )  # fmt: skip
    assert (await run_task(agent, TASK)).achieved
    [item] = _skills(store)
    skill = parse_skill(item.content)
    assert skill is not None
    kinds = {p.example: p.kind for p in skill.params}
    assert kinds["room_minutes.csv"] == "output_file" and kinds["bookings.csv"] == "input_file"
    store.close()


PREAMBLE = (
    "You are Alex Kim (`alex`, alex@acme.test), operations associate at Acme Corp. Today is "
    "Monday 16 November 2026; times are UTC. People are addressed as `<user>@acme.test`."
)
APPS = (
    "Apps you can use:\n- File share: http://127.0.0.1:40105 (a browser shows a read-only "
    "listing; to upload, use WebDAV, e.g. `curl -T report.csv http://127.0.0.1:40105/a.csv`)"
)
SUM_CODE = (
    "import pandas as pd\n"
    "df = pd.read_csv('Finance/expenses-158.csv')\n"
    "out = df.groupby('employee')['amount'].sum().round(2).reset_index()\n"
    "out.columns = ['employee', 'total']\n"
    "out.to_csv('totals.csv', index=False)\n"
)


def _induced_from_a_whole_task() -> Skill:
    """A one-subtask task whose goal is the whole task text: title, preamble, the work, the
    apps; the header it states ends in a common word (`total`)."""
    goal = (
        "# Expense totals by employee\n\n" + PREAMBLE + "\n\nSum the `amount` column of "
        "`Finance/expenses-158.csv` on the file share for each employee and put the sums into "
        "`totals.csv` in your workspace (header `employee,total`, two decimals).\n\n" + APPS
    )
    note = NoteStep(
        text="The input files:\nFinance/expenses-158.csv:\ncolumns (,-separated): id, employee, "
        "amount, date",
        purpose="info",
    )
    step = ToolStep(call_id="1", tool="python_run", arguments={"code": SUM_CODE}, output="")
    skill = induce(
        goal, goal, [note, step], read_only=lambda n: False, group=lambda n: "python",
        start_files={"Finance/expenses-158.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    return skill


def test_the_output_header_the_goal_states_is_a_parameter_even_a_common_word() -> None:
    skill = _induced_from_a_whole_task()
    [header] = [p for p in skill.params if p.kind == "header"]
    assert (header.example, header.position) == ("total", 1)
    code = skill.steps[0].arguments["code"]
    assert "'total'" not in code and "{{" + header.name + "}}" in code
    # the name and description say what the skill does, not who ran it or where
    assert skill.name == "expense_totals_column"
    assert "You are" not in skill.when_to_use and "127.0.0.1" not in skill.when_to_use
    assert skill.when_to_use.startswith("Expense totals by <column>: Sum the `<column_2>`")


@pytest.mark.parametrize(
    "prose",
    [  # the curve's pass 5: the model wrote the offered skill's code out by hand, and the
        # note that offered it spelled the header name; a tip may too
        'skill_x {"input_file": "crew/shifts-7.csv", "column": "crew", "header": "logged"}',
        "Tip: the logged time is what the manager wants, not the planned one.",
    ],
)
def test_a_header_name_no_input_table_has_stays_a_header_whatever_the_notes_say(
    prose: str,
) -> None:
    goal = (
        "Add up the `minutes` of `crew/shifts-7.csv` for each crew and write them to "
        "`crew-minutes.csv` (header `crew,logged`)."
    )
    notes = [
        NoteStep(
            text="crew/shifts-7.csv:\ncolumns (,-separated): day, crew, minutes", purpose="info"
        ),
        NoteStep(text=prose, purpose="info"),
    ]
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('crew/shifts-7.csv')\n"
        "df.groupby('crew')['minutes'].sum().reset_index(name='logged')"
        ".to_csv('crew-minutes.csv', index=False)\n"
    )
    step = ToolStep(call_id="1", tool="python_run", arguments={"code": code}, output="")
    skill = induce(
        goal, goal, [*notes, step], read_only=lambda n: False, group=lambda n: "python",
        start_files={"crew/shifts-7.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    kinds = {p.example: (p.kind, p.position) for p in skill.params}
    assert kinds["logged"] == ("header", 1)
    assert kinds["crew"][0] == kinds["minutes"][0] == "column"


def test_a_header_name_that_is_an_input_column_stays_a_column() -> None:
    """`region,revenue` over a table with a `revenue` column: the summed column and the
    output's name are one value, one parameter, filled as a column."""
    goal = (
        "Put the Q3 revenue per region from `Shared/q3.csv` into `by-region.csv` "
        "(header `region,revenue`)."
    )
    note = NoteStep(
        text="Shared/q3.csv:\ncolumns (,-separated): order, region, units, revenue",
        purpose="info",
    )
    code = (
        "import pandas as pd\n"
        "pd.read_csv('Shared/q3.csv').groupby('region')['revenue'].sum()"
        ".reset_index().to_csv('by-region.csv', index=False)\n"
    )
    step = ToolStep(call_id="1", tool="python_run", arguments={"code": code}, output="")
    skill = induce(
        goal, goal, [note, step], read_only=lambda n: False, group=lambda n: "python",
        start_files={"Shared/q3.csv"},
    )  # fmt: skip
    assert isinstance(skill, Skill)
    kinds = {p.example: p.kind for p in skill.params}
    assert kinds["region"] == kinds["revenue"] == "column"


@pytest.mark.parametrize(
    ("goal", "table", "want"),
    [  # other families' wordings, data and headers than the attempt's
        (
            "`Shared/q3-sales-352.csv` on the file share lists the Q3 sales. Write "
            "`revenue.csv` in your workspace with the header `product,revenue` and one row "
            "per product giving the sum of `revenue` (two decimals).",
            ("Shared/q3-sales-352.csv", "region,product,revenue\nnorth,pens,2.5\n"),
            {"column": "product", "column_2": "revenue", "header": "revenue"},
        ),
        (
            "Add up the hours in timesheet.csv per project and save them as hours.csv with "
            "the columns project,sum_hours.",
            ("timesheet.csv", "person,project,hours\nana,web,2\nbo,app,3\n"),
            {"column": "project", "column_2": "hours", "header": "sum_hours"},
        ),
    ],
)
def test_a_new_header_goes_into_the_skill_by_its_place(
    tmp_path: Path, goal: str, table: tuple[str, str], want: dict[str, str]
) -> None:
    from agent.skillbind import propose_arguments, with_column_types
    from agent.skills import fill

    start = tmp_path / "start"  # the attempt's start state: its table gives column types
    (start / "Finance").mkdir(parents=True)
    (start / "Finance/expenses-158.csv").write_text("id,employee,amount\n1,ana,2.5\n")
    skill = with_column_types(_induced_from_a_whole_task(), start, ["Finance/expenses-158.csv"])
    (tmp_path / table[0]).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / table[0]).write_text(table[1])
    args = propose_arguments(skill, goal, tmp_path)
    names = {p.example: p.name for p in skill.params}
    got = {k: args.get(names[v]) for k, v in (("column", "employee"), ("column_2", "amount"))}
    got["header"] = args.get(names["total"])
    assert got == want
    code = fill(skill.steps[0].arguments["code"], args, code=True)
    assert f"'{want['header']}'" in code and "'total'" not in code


@pytest.mark.parametrize(
    ("goal", "want"),
    [
        (  # a title: the title alone, none of the preamble the company's tasks share
            "# Archive the March invoices\n\nYou are Sam Lee, clerk at Initech. Today is "
            "Friday.\n\nMove last month's invoices away.\n\n" + APPS,
            "Archive the March invoices",
        ),
        (  # no title: the first sentence
            "Put last month's invoices away, as March. You are Sam Lee, clerk at Initech. "
            "Today is Friday.",
            "Put last month's invoices away, as March.",
        ),
    ],
)
def test_a_description_without_a_sentence_that_holds_a_parameter(goal: str, want: str) -> None:
    step = ToolStep(
        call_id="1", tool="file_write",
        arguments={"path": "done.txt", "content": "March\n"}, output="wrote",
    )  # fmt: skip
    skill = induce(
        goal, goal, [step], read_only=lambda n: False, group=lambda n: "files", start_files=set()
    )
    assert isinstance(skill, Skill), skill
    assert skill.when_to_use == want
    assert "You are" not in skill.when_to_use and "Initech" not in skill.when_to_use
