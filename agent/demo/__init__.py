"""The bundled demo: a small task run twice with the same memory.

The first run starts from an empty memory and learns; the second, in a fresh copy of the
workspace, retrieves what the first one wrote. Both outputs are checked against the
expected report, independently of what the agent says.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import http.server
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.config import Settings, resolve_profile
from agent.runner import EventSink

EXPECTED = [("West", 500), ("North", 480), ("South", 385), ("East", 325)]


class DemoRun(BaseModel):
    """One pass of the demo."""

    label: str
    outcome: str
    achieved: bool
    correct: bool
    steps: int
    calls: int
    tokens: int
    elapsed_s: float
    thread_id: str
    items_used: list[str] = Field(default_factory=list)
    recalled: list[str] = Field(default_factory=list, description="Titles of retrieved items.")
    items_written: list[str] = Field(default_factory=list)
    answer: str = ""


class DemoReport(BaseModel):
    """Both passes, where the memory is, and what to look at."""

    runs: list[DemoRun] = Field(default_factory=list)
    memory: Path
    notes: list[str] = Field(default_factory=list)


def demo_files() -> Path:
    """The folder holding task.md, workspace/ and site/."""
    return Path(str(resources.files(__package__)))


def check_report(workspace: Path) -> bool:
    """Whether report.csv holds exactly the expected rows, in order."""
    path = workspace / "report.csv"
    if not path.is_file():
        return False
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
        header, body = rows[0], [r for r in rows[1:] if r]
        got = [(r[0].strip(), round(float(r[1]))) for r in body]
    except (IndexError, ValueError):
        return False
    return [h.strip().lower() for h in header] == ["region", "total"] and got == EXPECTED


@contextlib.contextmanager
def serve_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the block; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


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


async def run_demo(
    settings: Settings,
    *,
    profile: str | None = None,
    keep: Path | None = None,
    on_event: Callable[[str], EventSink] | None = None,
) -> DemoReport:
    """Run the demo twice; ``on_event(label)`` returns the event sink of each pass."""
    from agent.build import build_agent
    from agent.runner import run_task
    from memory import MemoryStore

    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="journeyman-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(update={"runs_dir": base / "runs"})
    files = demo_files()
    report = DemoReport(memory=base / "memory")
    with serve_site(files / "site") as url:
        task = (files / "task.md").read_text(encoding="utf-8").strip().format(url=url)
        async with _model(settings, profile) as (name, llm):
            with MemoryStore.open(report.memory, settings=settings.memory) as store:
                for i, label in enumerate(("first run", "second run"), start=1):
                    ws = base / f"workspace-{i}"
                    shutil.rmtree(ws, ignore_errors=True)
                    shutil.copytree(files / "workspace", ws)
                    sink = on_event(label) if on_event else None
                    agent = build_agent(settings, llm=llm, memory=store, workspace=ws, profile=name)
                    async with agent:
                        result = await run_task(agent, task, on_event=sink)
                    recalled = [store.get(i) for i in result.items_used]
                    report.runs.append(
                        DemoRun(
                            label=label,
                            outcome=result.outcome,
                            achieved=result.achieved,
                            correct=check_report(ws),
                            steps=result.steps,
                            calls=result.usage.calls,
                            tokens=result.usage.total_tokens,
                            elapsed_s=result.elapsed_s,
                            thread_id=result.thread_id,
                            items_used=result.items_used,
                            recalled=[it.title for it in recalled if it is not None],
                            items_written=result.items_written,
                            answer=result.final_answer,
                        )
                    )
    report.notes = _notes(report, task)
    return report


def _notes(report: DemoReport, task: str) -> list[str]:
    second = report.runs[-1]
    notes = [f"task: {task}"]
    for run in report.runs:
        said = "achieved" if run.achieved else run.outcome
        real = "report.csv is correct" if run.correct else "report.csv is wrong or missing"
        notes.append(f"{run.label}: the agent says {said}; checked: {real}.")
    if second.recalled:
        notes.append("second run used: " + "; ".join(second.recalled))
    else:
        notes.append("second run found no experience to use (the first run stored none).")
    notes.append(
        f"memory: {report.memory}  (look inside: journeyman memory list --memory {report.memory})"
    )
    return notes
