"""Budgets stop a runaway model; malformed replies are re-asked and then handled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import answer, call, file_registry, make_settings, plan, verdict

from agent.build import build_agent
from agent.llm import FunctionLLM, ScriptedLLM
from agent.models import Distillation, Plan, Reflection
from agent.runner import run_task


def runaway(delay: float = 0.0) -> FunctionLLM:
    """A model that never stops listing files and never judges a subtask done."""

    async def reply(messages: Any, tools: Any, output: Any) -> Any:
        if delay:
            await asyncio.sleep(delay)
        if output is Plan:
            return plan("look around")
        if output is Reflection:
            return verdict(False, analysis="not there yet")
        if output is Distillation:
            return {"lessons": []}
        return call("file_list", path=".")

    return FunctionLLM(reply)


async def _run(tmp_path: Path, llm: FunctionLLM, **limits: Any) -> Any:
    settings = make_settings(tmp_path, **limits)
    ws = tmp_path / "ws"
    agent = build_agent(settings, llm=llm, memory=False, workspace=ws, registry=file_registry())
    return await run_task(agent, "Find something that is not there")


async def test_steps_per_subtask(tmp_path: Path) -> None:
    r = await _run(tmp_path, runaway(), max_steps_per_subtask=3, max_attempts_per_subtask=1)
    assert r.outcome == "failed" and r.stop_reason is None
    assert r.steps == 6  # 3 on the first plan, 3 after the one replan
    assert [s.status for s in r.subtasks] == ["failed"]


async def test_attempts_per_subtask(tmp_path: Path) -> None:
    llm = runaway()
    r = await _run(tmp_path, llm, max_steps_per_subtask=2, max_attempts_per_subtask=3)
    assert r.outcome == "failed"
    reflections = [c for c in llm.calls if c.output is Reflection]
    assert len(reflections) == 6  # 3 attempts, replan, 3 attempts
    assert r.subtasks[0].attempts == 2


async def test_total_steps(tmp_path: Path) -> None:
    r = await _run(tmp_path, runaway(), max_steps=5)
    assert r.outcome == "stopped" and r.stop_reason.startswith("max_steps")
    assert r.steps == 5


async def test_tokens(tmp_path: Path) -> None:
    r = await _run(tmp_path, runaway(), max_tokens=4000)
    assert r.outcome == "stopped" and r.stop_reason.startswith("max_tokens")
    assert 4000 <= r.usage.total_tokens < 4000 + 2000  # stopped at the next step
    assert r.steps < 60


async def test_wall_clock(tmp_path: Path) -> None:
    llm = runaway(delay=0.05)
    r = await _run(tmp_path, llm, max_wall_s=0.6, learn_reserve=0.25)
    assert r.outcome == "stopped" and r.stop_reason.startswith("max_wall_s")
    assert "kept for learning" in r.stop_reason
    assert 0.45 <= r.elapsed_s < 1.5
    # acting stopped at 0.45 s; the cut-off attempt was still judged in the reserve
    assert isinstance(llm.calls[-1].output, type) and llm.calls[-1].output is Reflection
    assert r.subtasks[-1].analysis == "not there yet"


async def test_no_reserve_means_no_reflection_after_the_clock(tmp_path: Path) -> None:
    llm = runaway(delay=0.05)
    r = await _run(tmp_path, llm, max_wall_s=0.4, learn_reserve=0.0)
    assert r.outcome == "stopped" and r.stop_reason.startswith("max_wall_s")
    assert llm.calls[-1].output is not Reflection
    assert r.subtasks[-1].analysis.startswith("stopped: max_wall_s")


async def test_malformed_replies_are_reasked_then_handled(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [
            "Sure! I will write the file for you.",  # not a plan: the client re-asks
            plan("write ok.txt"),
            '{"tool": "file_wirte", "arguments": {"path": "ok.txt"}}',  # no such tool: re-asked
            call("file_write", path="ok.txt", content="ok"),
            answer("ok.txt written"),
            "the subtask went well, I think",  # not a reflection: re-asked
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Write ok.txt")
    assert r.achieved and (workspace / "ok.txt").read_text() == "ok"
    reasks = [c for c in llm.calls if "could not be used" in c.messages[-1].content]
    assert len(reasks) == 3
    assert llm.remaining == 0


async def test_reflector_that_never_answers_fails_the_subtask(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [plan("write ok.txt"), call("file_write", path="ok.txt", content="ok"), answer("done")]
        + ["no idea"] * 3  # the verdict never parses: judged not achieved, retried
        + [answer("done again"), answer("done again")]  # the second after the no-action nudge
        + ["still no idea"] * 3
        # the replanned attempt must write again: a claim alone breaks the evidence rules
        + [plan("write ok.txt once more"), call("file_write", path="ok.txt", content="ok")]
        + [answer("done"), verdict(True)]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Write ok.txt")
    assert r.achieved and r.subtasks[0].attempts == 0 and len(r.subtasks) == 1
    assert "could not be made" in r.subtasks[0].analysis or r.subtasks[0].analysis == ""


@pytest.mark.parametrize("empty", [""])
async def test_empty_reply_gets_a_note(settings, workspace: Path, empty: str) -> None:
    from agent.llm.base import Completion

    llm = ScriptedLLM(
        [plan("say hi"), Completion(text=empty), answer("hi"), answer("hi"), verdict(True)]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Say hi")
    assert r.achieved
    executor_calls = [c for c in llm.calls if c.tools]
    assert "neither a tool call nor an answer" in executor_calls[1].messages[-1].content
    assert "No tool has been called" in executor_calls[2].messages[-1].content  # one nudge


async def test_a_give_up_in_prose_after_only_failures_is_nudged_once(
    settings, workspace: Path
) -> None:
    """Every action failed and the model explains the error instead of acting: one note
    names the last failure, and the reply to it must call a tool."""
    (workspace / "data").mkdir()
    (workspace / "data" / "notes.txt").write_text("kept\n")
    llm = ScriptedLLM(
        [
            plan("read the notes"),
            call("file_read", path="notes.txt"),  # not there: an error
            answer("The file notes.txt does not exist, so you need to create it first."),
            call("file_read", path="data/notes.txt"),  # the nudge's reply acts
            answer("The notes say: kept"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    r = await run_task(agent, "Read the notes")
    assert r.achieved and llm.remaining == 0
    executor = [c for c in llm.calls if c.tools]
    assert [c.require_tool for c in executor] == [True, False, True, False]
    note = executor[2].messages[-1].content
    assert note.startswith("Nothing has worked in this subtask yet") and "file_read" in note


async def test_a_second_give_up_in_prose_ends_the_attempt(tmp_path: Path) -> None:
    llm = ScriptedLLM(
        [
            plan("read the notes"),
            call("file_read", path="notes.txt"),
            answer("notes.txt is missing; it must be created by someone first."),
            call("file_read", path="NOTES.txt"),  # fails again
            answer("Neither file exists, so this cannot be done."),  # not nudged again
            verdict(False, analysis="no notes file"),
            # the replanned attempt lists the folder: it acted, so no nudge there either
            plan("look for the notes"),
            call("file_list", path="."),
            answer("There are no notes."),
            verdict(False),
        ]
    )
    settings = make_settings(tmp_path, max_attempts_per_subtask=1)
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=tmp_path / "ws", registry=file_registry()
    )
    r = await run_task(agent, "Read the notes")
    assert not r.achieved and llm.remaining == 0
    executor = [c for c in llm.calls if c.tools]
    assert [c.require_tool for c in executor] == [True, False, True, False, True, False]
    nudged = [c for c in executor if c.messages[-1].content.startswith("Nothing has worked")]
    assert nudged == [executor[2]]


async def test_context_overflow_is_fitted_harder_and_retried(tmp_path: Path) -> None:
    """The server says the prompt is too long: the executor cuts observations harder."""
    from agent.config import Settings
    from agent.errors import ContextOverflow

    settings = Settings(
        runs_dir=tmp_path / "runs",
        memory={"path": tmp_path / "memory"},
        profiles={"tiny": {"model": "tiny", "api_key_env": None, "context_window": 12_000}},
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "big.csv").write_text(
        "".join(f"2026-10-{i % 28 + 1:02d},{i},{i * 7}\n" for i in range(600))
    )
    sizes: list[int] = []

    async def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan("list the numbers")
        if output is Reflection:
            return verdict(True)
        if output is Distillation:
            return {"lessons": []}
        if not any(m.role == "tool" for m in messages):
            return call("shell_run", command="seq 100000 102000")  # ~8k characters of digits
        sizes.append(sum(len(m.content) for m in messages))
        if len(sizes) == 1:
            raise ContextOverflow("This model's maximum context length is 12000 tokens")
        return answer("read it")

    agent = build_agent(
        settings, llm=FunctionLLM(reply), memory=False, workspace=ws,
        registry=file_registry(), profile="tiny",
    )  # fmt: skip
    r = await run_task(agent, "List the numbers from 100000 to 102000")
    assert r.achieved
    assert len(sizes) == 2 and sizes[1] < sizes[0] / 2, sizes


async def test_reflector_context_overflow_shows_less_of_each_observation(
    tmp_path: Path,
) -> None:
    from agent.errors import ContextOverflow

    judged: list[int] = []

    async def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan("list the numbers")
        if output is Distillation:
            return {"lessons": []}
        if output is Reflection:
            judged.append(len(messages[-1].content))
            if len(judged) == 1:
                raise ContextOverflow("maximum context length exceeded")
            return verdict(True)
        if not any(m.role == "tool" for m in messages):
            return call("shell_run", command="seq 100000 101000")
        return answer("listed")

    r = await _run(tmp_path, FunctionLLM(reply))
    assert r.achieved
    assert len(judged) == 2 and judged[1] < judged[0] - 500, judged


async def test_a_model_that_never_forms_an_action_fails_the_attempt_not_the_run(
    tmp_path: Path,
) -> None:
    """Re-asks used up on an action (a small model that writes prose or a broken JSON
    action every time) end the attempt with a note; the run ends as failed, with a result."""

    async def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Plan:
            return plan("write ok.txt")
        if output is Reflection:
            return verdict(False, analysis="nothing was done")
        if output is Distillation:
            return {"lessons": []}
        return '{"tool": "file_write", "arguments": {"path": "ok.txt", "content": '  # cut off

    llm = FunctionLLM(reply)
    r = await _run(tmp_path, llm, max_attempts_per_subtask=2)
    assert r.outcome == "failed" and not r.achieved and r.subtasks
    # the reflector saw why each attempt ended, and the run went on after each
    judged = [c for c in llm.calls if c.output is Reflection]
    assert len(judged) >= 2
    assert all("no usable action" in c.messages[-1].content for c in judged)
    assert not (tmp_path / "ws" / "ok.txt").exists()
