"""The loop end to end with a scripted model, real file/shell tools and SQLite checkpoints."""

from __future__ import annotations

from pathlib import Path

from _agent_helpers import answer, call, file_registry, make_settings, plan, verdict

from agent.build import build_agent
from agent.config import ModelProfile
from agent.llm import ScriptedLLM
from agent.runner import Event, run_task
from agent.state import records_from_json, records_to_json


async def test_three_subtasks_end_to_end(settings, workspace: Path) -> None:
    # a profile without a subtask cap of its own (the local ones do a task as one subtask)
    settings.profiles["remote"] = ModelProfile(model="scripted", api_key_env=None)
    llm = ScriptedLLM(
        [
            plan("write a.txt", "write b.txt", "join them into c.txt"),
            call("file_write", path="a.txt", content="alpha\n"),
            answer("a.txt written"),
            verdict(True),
            call("file_write", path="b.txt", content="beta\n"),
            answer("b.txt written"),
            verdict(True),
            call("shell_run", command="cat a.txt b.txt > c.txt && cat c.txt"),
            answer("c.txt has both lines"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="remote",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(agent, "Make c.txt from two new files", on_event=events.append)

    assert result.achieved, result
    assert (workspace / "c.txt").read_text() == "alpha\nbeta\n"
    assert [s.status for s in result.subtasks] == ["done", "done", "done"]
    assert result.steps == 6
    assert result.usage.calls == 10
    assert result.final_answer == "c.txt has both lines"
    assert llm.remaining == 0
    # each attempt's first executor call must act; once a tool has run, it may answer
    executor = [c.require_tool for c in llm.calls if c.tools]
    assert executor == [True, False] * 3
    assert (result.run_dir / "checkpoints.sqlite").is_file()
    kinds = [e.event for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("observation") == 3 and kinds.count("reflection") == 3


async def test_trajectory_round_trips_json(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [
            plan("write a.txt"),
            call("file_write", path="a.txt", content="x"),
            answer("ok"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    result = await run_task(agent, "write a.txt")
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from agent.checkpoint import serializer
    from agent.graph import build_graph

    async with AsyncSqliteSaver.from_conn_string(
        str(result.run_dir / "checkpoints.sqlite")
    ) as saver:
        saver.serde = serializer()
        graph = build_graph(checkpointer=saver)
        state = (await graph.aget_state({"configurable": {"thread_id": result.thread_id}})).values
    records = state["trajectory"]
    assert [r.kind for r in records] == ["model", "tool", "model", "reflection"]
    data = records_to_json(records)
    import json

    assert records_from_json(json.loads(json.dumps(data))) == records
    assert records[1].to_messages()[0].role == "tool"


async def test_claimed_success_without_the_file_is_overruled(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [
            {"subtasks": [{"goal": "Write the report", "done_when": "report.csv exists"}]},
            answer("report.csv written"),  # a claim, no action
            answer("report.csv written"),  # again, after the no-action nudge
            verdict(True),  # a fooled reflector
            call("file_write", path="report.csv", content="region,total\n"),
            answer("report.csv written"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    result = await run_task(agent, "Write report.csv")
    assert result.achieved and result.subtasks[0].attempts == 1
    retry_prompt = llm.calls[4].messages[1].content
    assert "report.csv was not created" in retry_prompt


async def test_a_result_typed_without_reading_its_input_is_overruled(
    settings, workspace: Path
) -> None:
    """Rows invented without reading sales.csv: a fooled reflector is overruled, and the
    retry, which computes from the file, passes."""
    (workspace / "sales.csv").write_text("region,amount\nNorth,5\nNorth,1\n")
    task = "Sum sales.csv by region into totals.csv"
    llm = ScriptedLLM(
        [
            call("file_write", path="totals.csv", content="region,total\nRegion A,100\n"),
            answer("totals.csv written"),
            verdict(True),  # fooled: the file exists and looks right
            call("shell_run", command="awk -F, 'NR>1{t[$1]+=$2} END{print \"region,total\"; "
                 "for (r in t) print r\",\"t[r]}' sales.csv > totals.csv"),
            answer("totals.csv computed"),
            verdict(True),
        ]
    )  # fmt: skip
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    result = await run_task(agent, task)

    assert result.achieved and result.subtasks[0].attempts == 1
    retry_prompt = llm.calls[3].messages[1].content
    assert "not computed from sales.csv" in retry_prompt
    assert (workspace / "totals.csv").read_text() == "region,total\nNorth,6\n"


async def test_repeated_failing_action_is_not_run_again(settings, workspace: Path) -> None:
    bad = call("file_read", path="missing.txt")
    llm = ScriptedLLM(
        [
            plan("read the notes"),
            bad,
            bad,  # repeated after it failed: not run, a warning instead
            bad,  # right after the warning: warned again, and file_read is not offered next
            call("file_list"),
            answer("there are no notes"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    result = await run_task(agent, "Read the notes")
    assert result.achieved and llm.remaining == 0
    executor = [c for c in llm.calls if c.tools]
    assert executor[2].messages[-1].content.startswith("You repeated the action that just failed")
    barred = executor[3]
    assert barred.messages[-1].content.endswith("file_read is not offered for your next reply.")
    assert "file_read" not in {t.name for t in barred.tools} and barred.require_tool
    assert "file_read" in {t.name for t in executor[4].tools}  # for that one reply only
    reads = [r for r in llm.calls if r.tools and r.messages[-1].role == "tool"]
    assert len(reads) == 2  # file_read ran once; file_list once


async def test_a_repeat_after_two_warnings_in_vain_ends_the_attempt(tmp_path: Path) -> None:
    bad = call("file_read", path="missing.txt")
    llm = ScriptedLLM(
        [
            plan("read the notes"),
            bad,
            bad,  # warned
            bad,  # warned again; file_read not offered
            call("shell_run", command="cat missing.txt"),  # another tool, failing too
            bad,  # a third repeat with nothing working since: the attempt ends
            verdict(False, analysis="missing.txt is not there"),
            plan("list the files"),
            call("file_list"),
            answer("there are no notes"),
            verdict(False),
        ]
    )
    settings = make_settings(tmp_path, max_attempts_per_subtask=1)
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=tmp_path / "ws", registry=file_registry()
    )
    events: list[Event] = []
    result = await run_task(agent, "Read the notes", on_event=events.append)
    assert not result.achieved and llm.remaining == 0
    notes = [e.data["text"] for e in events if e.event == "note"]
    assert "You repeated the action that just failed again; this attempt ends." in notes


async def test_a_repeat_after_an_action_that_worked_is_warned_again(
    settings, workspace: Path
) -> None:
    """Warned of a repeat, the model did something that worked, then went back to the same
    failing call: a second warning, not the end of the attempt (it then reads the file the
    listing showed). Without anything working in between, the next repeat ends it."""
    (workspace / "data").mkdir()
    (workspace / "data" / "notes.txt").write_text("kept\n")
    bad = call("file_read", path="notes.txt")
    llm = ScriptedLLM(
        [
            plan("read the notes"),
            bad,
            bad,  # warned
            call("file_list", path="."),  # works
            bad,  # warned again, not ended
            call("file_read", path="data/notes.txt"),
            answer("The notes say: kept"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    result = await run_task(agent, "Read the notes")
    assert result.achieved and result.subtasks[0].attempts == 0 and llm.remaining == 0
    prompts = [c.messages[-1].content for c in llm.calls if c.tools]
    warned = [p for p in prompts if p.startswith("You repeated the action that just failed:")]
    assert len(warned) == 2 and not any("this attempt ends" in p for p in prompts)


async def test_the_same_write_again_and_again_is_told_then_ended_and_judged(
    settings, workspace: Path
) -> None:
    """The 1.5B model wrote one file eleven times in a row (a CSV probe): at the third
    identical write with the same result it is told the action is done; at the fourth the
    attempt ends, and is judged on what it did (not failed for looping, as a read loop is)."""
    write = call("file_write", path="out.csv", content="a,b\n1,2\n")
    llm = ScriptedLLM(
        [
            plan("write out.csv"),
            write,
            write,
            write,  # third: a note follows
            write,  # fourth: the attempt ends here
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    events: list[Event] = []
    result = await run_task(agent, "Write out.csv with a,b and 1,2", on_event=events.append)
    assert result.achieved and llm.remaining == 0
    assert (workspace / "out.csv").read_text() == "a,b\n1,2\n"
    notes = [e.data["text"] for e in events if e.event == "note"]
    assert any(n.startswith("Done already: you ran file_write 3 times") for n in notes)
    assert any(n.startswith("Done already: the same action gave the same result 4") for n in notes)
    executor = [c.messages[-1].content for c in llm.calls if c.tools]
    assert "Give your final answer now" in executor[3]


def _with_python():
    from tools.python_env import PYTHON_TOOLS
    from tools.registry import ToolRegistry

    return ToolRegistry([*file_registry(), *PYTHON_TOOLS])


async def test_a_failing_action_repeated_after_a_read_is_not_run_again(
    settings, workspace: Path
) -> None:
    """A read in between does not make the same broken call new (seen with the 1.5B model:
    read the input, run the same broken script, read again, ... until the step limit)."""
    (workspace / "data.csv").write_text("a,b\n1,2\n")
    broken = call("python_run", code="print('unterminated)")
    llm = ScriptedLLM(
        [
            plan("sum column b of data.csv"),
            broken,
            call("file_read", path="data.csv"),
            broken,  # the same failing call after a read: not run, a warning instead
            call(
                "python_run",
                code="import csv\nprint(sum(int(r['b']) for r in csv.DictReader(open('data.csv'))))",
            ),
            answer("2"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace,
        registry=_with_python(),
    )  # fmt: skip
    result = await run_task(agent, "Sum column b of data.csv")
    assert result.achieved
    prompts = [c.messages[-1].content for c in llm.calls if c.tools]
    assert prompts[3].startswith("You repeated the action that just failed: SyntaxError")
    ran = [c for c in llm.calls if c.tools and c.messages[-1].role == "tool"]
    assert len(ran) == 3  # broken once, the read, the good script


async def test_reflector_sees_the_files_its_evidence_names(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [
            {"subtasks": [{"goal": "Write totals", "done_when": "totals.csv has region,total"}]},
            call("file_write", path="totals.csv", content="region,total\nNorth,480\n"),
            answer("done"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    await run_task(agent, "Write totals.csv")
    prompt = llm.calls[-1].messages[-1].content
    assert "content of totals.csv now:\nregion,total\nNorth,480" in prompt


async def test_reflector_sees_the_files_the_goal_names(settings, workspace: Path) -> None:
    """A task done as one subtask (local profiles) has a generic done_when: the goal counts."""
    (workspace / "sales.csv").write_text("region,amount\nNorth,480\n")
    llm = ScriptedLLM(
        [
            call("shell_run", command="sed 's/amount/total/' sales.csv > totals.csv"),
            answer("done"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    await run_task(agent, "Sum sales.csv by region into totals.csv")
    prompt = llm.calls[-1].messages[-1].content
    assert "content of totals.csv now:\nregion,total\nNorth,480" in prompt
    assert "content of sales.csv now:\nregion,amount" in prompt


def test_outputs_of_a_run_are_what_its_actions_wrote() -> None:
    """Reading a file does not make it an output; writing, moving or a command's report does."""
    from agent.reflector import outputs_of
    from agent.state import ToolStep
    from tools.catalogue import default_registry

    def step(tool: str, output: str = "", **arguments: object) -> ToolStep:
        return ToolStep(subtask=0, attempt=0, call_id="c", tool=tool, arguments=arguments,
                        output=output)  # fmt: skip

    run = [
        step("file_read", path="sales.csv"),
        step("file_write", path="./totals.csv", content="x"),
        step("file_move", src="a.txt", dst="b.txt"),
        step("shell_run", "$ awk ...\n[files written: report.md (12 bytes)]", command="awk"),
        step("no_such_tool", path="c.csv"),
    ]
    assert outputs_of(run, default_registry()) == {"totals.csv", "b.txt", "report.md"}


async def test_each_run_gets_its_own_graph_over_one_compilation(settings, workspace: Path) -> None:
    """The graph is compiled once; a run's copy carries its own checkpointer and leaves
    the compiled one (and the other runs') untouched; runs back to back both finish."""
    import sqlite3

    import pytest

    from agent.checkpoint import InlineSqliteSaver
    from agent.graph import _compiled, build_graph

    one = InlineSqliteSaver(sqlite3.connect(":memory:", check_same_thread=False))
    two = InlineSqliteSaver(sqlite3.connect(":memory:", check_same_thread=False))
    g1, g2 = build_graph(checkpointer=one), build_graph(checkpointer=two)
    assert (g1.checkpointer, g2.checkpointer, _compiled().checkpointer) == (one, two, None)
    assert set(g1.__dict__) == set(_compiled().__dict__)
    with pytest.raises(TypeError, match="Invalid checkpointer"):
        build_graph(checkpointer="checkpoints.sqlite")  # type: ignore[arg-type]
    results = []
    for task in ("write a.txt", "write b.txt"):
        name = task.split()[1]
        llm = ScriptedLLM(
            [plan(task), call("file_write", path=name, content="x"), answer("ok"), verdict(True)]
        )
        agent = build_agent(
            settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
        )
        results.append(await run_task(agent, task))
    assert all(r.achieved for r in results)
    assert (workspace / "a.txt").is_file() and (workspace / "b.txt").is_file()
