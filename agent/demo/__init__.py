"""The bundled demo: two instances of one task family, run one after the other with one memory.

The first run starts from an empty memory and learns (the learner induces a skill from a
verified attempt, tips from an error and its fix, an episode record); the second, a task
of the same kind with another table and other words (:mod:`agent.demo.family`), gets what
fits from that memory. Both outputs are checked by code, independently of what the agent
says, and the report shows side by side what each run cost and what the second one used.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.config import Settings, resolve_profile
from agent.demo.family import DemoTask, pair
from agent.runner import Event, EventSink
from agent.skills import SKILL_PREFIX


class DemoRun(BaseModel):
    """One pass of the demo."""

    label: str
    task: str
    outcome: str
    achieved: bool
    correct: bool
    steps: int
    calls: int
    tokens: int
    elapsed_s: float
    thread_id: str
    items_used: list[str] = Field(default_factory=list)
    recalled: list[str] = Field(default_factory=list, description="'level: title' of used items.")
    items_written: list[str] = Field(default_factory=list)
    skill_calls: list[str] = Field(default_factory=list, description="Skills the run called.")
    answer: str = ""

    @property
    def used_learned(self) -> bool:
        """Whether the run used an item an earlier run of the demo wrote."""
        return bool(self.items_used)


class DemoReport(BaseModel):
    """Both passes, where the memory is, and what to look at."""

    seed: int
    runs: list[DemoRun] = Field(default_factory=list)
    memory: Path
    notes: list[str] = Field(default_factory=list)


@contextlib.asynccontextmanager
async def _model(settings: Settings, profile: str | None) -> AsyncIterator[tuple[str, Any]]:
    from agent.build import llm_from_hook

    name, prof = resolve_profile(settings, profile)
    hooked = llm_from_hook(settings)
    if hooked is not None:
        yield name, hooked
        return
    from agent.llm import build_llm

    if prof.local:
        from agent.local import amanaged_model

        async with amanaged_model(settings, name) as base_url:
            yield name, build_llm(settings, name, base_url=base_url)
    else:
        yield name, build_llm(settings, name)


def _watch(sink: EventSink | None, skills: list[str]) -> EventSink:
    def on_event(e: Event) -> None:
        if e.event == "observation" and str(e.data.get("tool", "")).startswith(SKILL_PREFIX):
            skills.append(str(e.data["tool"]))
        if sink is not None:
            sink(e)

    return on_event


async def run_demo(
    settings: Settings,
    *,
    profile: str | None = None,
    keep: Path | None = None,
    seed: int = 1,
    on_event: Callable[[str], EventSink] | None = None,
) -> DemoReport:
    """Run two instances of the family (:func:`agent.demo.family.pair` of ``seed``) with one
    memory; ``on_event(label)`` returns the event sink of each pass."""
    from agent.build import build_agent
    from agent.runner import run_task
    from memory import MemoryStore

    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="journeyman-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={"runs_dir": base / "runs"})
    report = DemoReport(seed=seed, memory=base / "memory")
    tasks: tuple[DemoTask, DemoTask] = pair(seed)
    async with _model(settings, profile) as (name, llm):
        with MemoryStore.open(report.memory, settings=settings.memory) as store:
            for i, (label, task) in enumerate(zip(("first run", "second run"), tasks, strict=True)):
                ws = base / f"workspace-{i + 1}"
                shutil.rmtree(ws, ignore_errors=True)
                task.write_input(ws)
                skills: list[str] = []
                sink = _watch(on_event(label) if on_event else None, skills)
                agent = build_agent(settings, llm=llm, memory=store, workspace=ws, profile=name)
                known = {it.id for it in store.list_items(limit=None)}
                async with agent:
                    result = await run_task(agent, task.text, on_event=sink)
                # what the run wrote: the learner's items, and its episode record (archived
                # at the end of the run, outside the learner's list)
                new = [it.id for it in store.list_items(limit=None) if it.id not in known]
                written = list(dict.fromkeys([*result.items_written, *reversed(new)]))
                used = [store.get(i) for i in result.items_used]
                report.runs.append(
                    DemoRun(
                        label=label,
                        task=task.text,
                        outcome=result.outcome,
                        achieved=result.achieved,
                        correct=task.check(ws),
                        steps=result.steps,
                        calls=result.usage.calls,
                        tokens=result.usage.total_tokens,
                        elapsed_s=result.elapsed_s,
                        thread_id=result.thread_id,
                        items_used=result.items_used,
                        recalled=[f"{it.level}: {it.title}" for it in used if it is not None],
                        items_written=written,
                        skill_calls=skills,
                        answer=result.final_answer,
                    )
                )
    report.notes = _notes(report, tasks)
    return report


def _notes(report: DemoReport, tasks: tuple[DemoTask, ...]) -> list[str]:
    notes = []
    for run, task in zip(report.runs, tasks, strict=True):
        said = "achieved" if run.achieved else run.outcome
        real = f"{task.out} is correct" if run.correct else f"{task.out} is wrong or missing"
        notes.append(f"{run.label}: {run.task}")
        notes.append(f"  the agent says {said}; checked by code: {real}.")
    first, second = report.runs[0], report.runs[-1]
    if first.items_written:
        notes.append("first run learned: " + ", ".join(first.items_written))
    if second.recalled:
        notes.append("second run used: " + "; ".join(second.recalled))
        if second.skill_calls:
            notes.append("second run called: " + ", ".join(second.skill_calls))
    else:
        notes.append("second run used nothing from memory (the first run stored nothing that fit).")
    notes.append(
        f"memory: {report.memory}  (look inside: journeyman memory list --memory {report.memory};"
        f" one item: journeyman memory show ID --memory {report.memory})"
    )
    return notes
