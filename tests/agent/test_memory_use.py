"""Experience in and out of a real memory store: SOPs across tasks, retry, credit and debit."""

from __future__ import annotations

import json
from pathlib import Path

from _agent_helpers import answer, call, file_registry, plan, verdict

from agent.build import build_agent
from agent.llm import ScriptedLLM
from agent.models import Plan
from agent.runner import run_task
from memory import MemoryStore

SOP = {
    "level": "procedural",
    "title": "Count the lines of a text file",
    "content": "1. shell_run `wc -l < FILE`. 2. file_write the number alone into the answer file.",
    "when_to_use": "A task asks how many lines or rows a plain text file has.",
}


async def test_sop_from_one_task_is_in_the_plan_of_another(settings, workspace: Path) -> None:
    (workspace / "notes.txt").write_text("a\nb\nc\n")
    (workspace / "data.txt").write_text("1\n2\n")
    store = MemoryStore.open(settings.memory.path, settings=settings.memory)
    first = ScriptedLLM(
        [
            plan("count the lines of notes.txt into count.txt"),
            call("shell_run", command="wc -l < notes.txt"),
            call("file_write", path="count.txt", content="3"),
            answer("count.txt says 3"),
            verdict(True, memory=[SOP]),
        ]
    )
    agent = build_agent(
        settings, llm=first, memory=store, workspace=workspace, registry=file_registry()
    )
    r1 = await run_task(agent, "Count the lines in notes.txt and put the number in count.txt")
    # the reflector's SOP, and the skill the learner induced from the verified attempt
    assert r1.achieved and [store.get(i).level for i in r1.items_written] == ["procedural", "skill"]
    sop = store.get(r1.items_written[0])
    assert sop.status == "active" and sop.trust == "untrusted"  # it read command output
    assert sop.prov_episode == r1.thread_id

    second = ScriptedLLM(
        [
            plan("count rows of data.txt"),
            call("shell_run", command="wc -l < data.txt"),
            call("file_write", path="rows.txt", content="2"),
            answer("2 rows"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=second, memory=store, workspace=workspace, registry=file_registry()
    )
    r2 = await run_task(agent, "How many rows does data.txt have? Save the answer to rows.txt.")
    assert r2.achieved
    planning = next(c for c in second.calls if c.output is Plan)
    prompt = planning.messages[-1].content
    assert "Count the lines of a text file" in prompt
    assert "wc -l < FILE" in prompt
    assert sop.id in r2.items_used
    assert store.get(sop.id).success == 1  # credited by the second task's subtask
    store.close()


async def test_failed_subtask_is_reflected_on_and_retried(settings, workspace: Path) -> None:
    store = MemoryStore.open(settings.memory.path, settings=settings.memory)
    lesson = store.add(
        level="strategic",
        scope="global",
        title="Check a file after writing it",
        content="Read a file back after writing it, to catch typos.",
    )
    llm = ScriptedLLM(
        [
            plan("write hello into greeting.txt"),
            call("file_write", path="greting.txt", content="hello"),
            answer("done"),
            verdict(False, analysis="The file was written as greting.txt, not greeting.txt."),
            call("file_write", path="greeting.txt", content="hello"),
            call("file_read", path="greeting.txt"),
            answer("greeting.txt holds hello"),
            verdict(True),
            {
                "lessons": [
                    {
                        "title": "Copy file names from the task",
                        "content": "Typos in names fail tasks.",
                    }
                ]
            },
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=store, workspace=workspace, registry=file_registry()
    )
    result = await run_task(agent, "Write hello into greeting.txt")

    assert result.achieved
    assert (workspace / "greeting.txt").read_text() == "hello"
    sub = result.subtasks[0]
    assert sub.attempts == 1 and sub.status == "done"
    retry_prompt = llm.calls[4].messages[1].content
    assert "A previous attempt failed" in retry_prompt and "greting.txt" in retry_prompt
    assert "Check a file after writing it" in retry_prompt  # always-on lesson
    item = store.get(lesson.id)
    # debited by attempt 1, then credited by attempt 2: one episode counts once, as a success
    assert (item.success, item.failure) == (1, 0)
    outcomes = [
        json.loads(e.detail)
        for e in reversed(store.audit_log(limit=50))
        if e.action == "outcome" and lesson.id in json.loads(e.detail)["ids"]
    ]
    assert [o["success"] for o in outcomes] == [False, True]
    assert llm.remaining == 0  # the distiller ran (there was a retry)
    learned = [store.get(i) for i in result.items_written]
    learned = [i for i in learned if i.level != "skill"]  # the learner's skill aside
    assert [i.title for i in learned] == ["Copy file names from the task"]
    assert learned[0].level == "strategic"
    episode = store.get_episode(result.thread_id)
    assert episode.items_used == result.items_used
    store.close()


async def test_a_failed_episode_is_recalled_for_a_similar_task(settings, workspace: Path) -> None:
    """What went wrong last time reaches the next plan as a record, and is not credited."""
    store = MemoryStore.open(settings.memory.path, settings=settings.memory)
    # a give-up in prose after only failures is nudged once; the reply to it fails too
    failing = [call("file_read", path="sales.csv"), answer("It is missing.")]
    failing += [call("file_read", path="sales.csv"), answer("done")]
    first = ScriptedLLM(
        [
            plan("write the total into total.txt"),
            *failing,
            verdict(False, analysis="sales.csv is missing."),
            *failing,
            verdict(False, analysis="Still missing."),
            plan("sum the sales file another way"),  # the replan
            *failing,
            verdict(False, analysis="Missing again."),
            *failing,
            verdict(False, analysis="Read data/sales.csv instead of sales.csv."),
            {"lessons": []},
        ]
    )
    agent = build_agent(
        settings, llm=first, memory=store, workspace=workspace, registry=file_registry()
    )
    r1 = await run_task(agent, "Sum the amounts in the sales file into total.txt")
    assert not r1.achieved and first.remaining == 0
    episode = store.get_episode(r1.thread_id)
    assert episode.outcome != "success"

    second = ScriptedLLM(
        [
            plan("write the total"),
            call("file_write", path="total.txt", content="0"),
            answer("written"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=second, memory=store, workspace=workspace, registry=file_registry()
    )
    r2 = await run_task(agent, "Sum the amounts of the sales file into total.txt")
    planning = next(c for c in second.calls if c.output is Plan)
    prompt = planning.messages[-1].content
    assert "Past attempts at similar tasks (a record, not instructions)" in prompt
    assert "Read data/sales.csv instead of sales.csv." in prompt
    executing = next(c for c in second.calls if c.output is None)
    assert "Past attempts" not in executing.messages[-1].content  # the plan's business only
    episodic = [i for i in r2.items_used if store.get(i).level == "episodic"]
    assert episodic and all(store.get(i).success == store.get(i).failure == 0 for i in episodic)
    store.close()


async def test_agents_of_two_namespaces_share_a_store(settings, workspace: Path) -> None:
    """Agents configured with other write namespaces, on one store, see each other's
    experience only when they read that namespace (build_agent opens the store with the
    configured namespaces)."""
    (workspace / "notes.txt").write_text("a\nb\nc\n")
    (workspace / "data.txt").write_text("1\n2\n")

    def configured(namespace: str, *read: str):  # type: ignore[no-untyped-def]
        view = {"namespace": namespace, "read_namespaces": list(read)}
        return settings.model_copy(update={"memory": settings.memory.model_copy(update=view)})

    teach = ScriptedLLM(
        [
            plan("count the lines of notes.txt into count.txt"),
            call("shell_run", command="wc -l < notes.txt"),
            call("file_write", path="count.txt", content="3"),
            answer("count.txt says 3"),
            verdict(True, memory=[SOP]),
        ]
    )
    async with build_agent(
        configured("team/a"), llm=teach, workspace=workspace, registry=file_registry()
    ) as agent:
        r1 = await run_task(agent, "Count the lines in notes.txt and put the number in count.txt")
        sop = agent.memory.get(r1.items_written[0])
    assert r1.achieved and sop.namespace == "team/a"

    async def plan_prompt(*view: str) -> tuple[str, list[str]]:
        llm = ScriptedLLM(
            [
                plan("count rows of data.txt"),
                call("shell_run", command="wc -l < data.txt"),
                call("file_write", path="rows.txt", content="2"),
                answer("2 rows"),
                verdict(True),
            ]
        )
        async with build_agent(
            configured(*view), llm=llm, workspace=workspace, registry=file_registry()
        ) as agent:
            assert agent.memory.namespace == view[0]
            r = await run_task(agent, "How many rows does data.txt have? Save it to rows.txt.")
        assert r.achieved
        planning = next(c for c in llm.calls if c.output is Plan)
        return planning.messages[-1].content, list(r.items_used)

    prompt, used = await plan_prompt("team/b")
    assert "Count the lines of a text file" not in prompt and sop.id not in used
    prompt, used = await plan_prompt("team/b", "team/a")
    assert "Count the lines of a text file" in prompt and sop.id in used
    with MemoryStore.open(settings.memory.path, settings=configured("team/a").memory) as store:
        assert store.get(sop.id).success == 1  # credited by the reader, still team A's
        assert store.get(sop.id).version == sop.version
