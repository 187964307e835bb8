"""No-progress detection: identical reads are a loop; warned at the third, ended at the fourth."""

from __future__ import annotations

from pathlib import Path

from _agent_helpers import answer, call, file_registry, verdict

from agent.build import build_agent
from agent.llm import ScriptedLLM
from agent.progress import loop_note, repeats, unused_elements
from agent.runner import Event, run_task
from agent.state import ToolStep

PAGE = 'URL: http://127.0.0.1:9/\nInteractive elements:\n[1] textbox "Name"\n[2] button "Send"'


def ro(name: str) -> bool:
    return name.startswith("browser_read") or name == "file_list"


def read(output: str = PAGE, **args: object) -> ToolStep:
    return ToolStep(call_id="c", tool="browser_read", arguments=args, output=output)


def test_repeats_count_only_identical_reads() -> None:
    assert repeats([read(), read()], ro) == 2
    assert repeats([read(), read(offset=10)], ro) == 1
    assert repeats([read(), read("URL: other")], ro) == 1  # the page changed: progress
    typed = ToolStep(call_id="c", tool="browser_type", arguments={"element_id": 1}, output=PAGE)
    assert repeats([read(), read(), typed], ro) == 0


def test_the_third_read_gets_the_unused_elements_and_the_fourth_ends() -> None:
    assert loop_note([read(), read()], ro) is None
    clicked = ToolStep(call_id="c", tool="browser_click", arguments={"element_id": 1}, output=PAGE)
    text, ends = loop_note([clicked, read(), read(), read()], ro) or ("", True)
    assert not ends and '[2] button "Send"' in text and "[1]" not in text
    assert unused_elements([read()]) == ['[1] textbox "Name"', '[2] button "Send"']
    _, ends = loop_note([read()] * 4, ro) or ("", False)
    assert ends


async def test_a_loop_of_identical_reads_is_stopped(settings, workspace: Path) -> None:
    (workspace / "a.txt").write_text("a")
    llm = ScriptedLLM(
        [
            call("file_list"),
            call("file_list"),
            call("file_list"),
            call("file_list"),  # the fourth identical read: the attempt ends, no verdict asked
            call("file_write", path="names.txt", content="a.txt\n"),
            answer("names.txt lists a.txt"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(
        agent, "Write the names of the files into names.txt", on_event=events.append
    )
    assert llm.remaining == 0
    assert result.achieved and result.subtasks[0].attempts == 1
    executor = [c for c in llm.calls if c.tools]
    assert "No progress: you called file_list 3 times" in executor[3].messages[-1].content
    reflections = [e.data for e in events if e.event == "reflection"]
    assert [(r["achieved"], r["rule"]) for r in reflections] == [
        (False, "no_progress"),
        (True, None),
    ]
    lists = [e for e in events if e.event == "observation" and e.data["tool"] == "file_list"]
    assert len(lists) == 4
