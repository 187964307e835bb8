"""What the run commands print: a live view of plan and steps, JSONL events, summaries."""

from __future__ import annotations

import json
import sys
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from agent.demo import DemoReport
    from agent.runner import Event, RunResult

STATUS = {"pending": "·", "running": "▶", "done": "✔", "failed": "✘"}


class JsonSink:
    """Writes each event as one JSON line on stdout."""

    def __call__(self, event: Event) -> None:
        sys.stdout.write(event.model_dump_json() + "\n")
        sys.stdout.flush()


class Feed:
    """Turns events into the plan's state and short display lines."""

    def __init__(self) -> None:
        self.plan: list[dict[str, Any]] = []
        self.steps = 0

    def lines(self, event: Event) -> list[Text]:
        """Update from one event; the lines it adds."""
        d, out = event.data, []
        if event.event == "plan":
            self.plan = d["subtasks"]
        elif event.event == "recall":
            titles = ", ".join(i["title"] for i in d["items"][:4])
            out.append(_line("recall", f"{len(d['items'])} item(s): {titles}", "magenta"))
        elif event.event == "step":
            self.steps += 1
            for c in d.get("tool_calls", []):
                out.append(_line("act", f"{c['name']} {json.dumps(c['arguments'])[:100]}", "cyan"))
            if d.get("text") and not d.get("tool_calls"):
                out.append(_line("answer", d["text"][:160], "green"))
            self._mark(d["subtask"], "running")
        elif event.event == "observation":
            text = d.get("error") or d.get("output") or ""
            out.append(_line("->", text[:140], "red" if d.get("error") else ""))
        elif event.event == "reflection":
            ok = d["achieved"]
            self._mark(d["subtask"], "done" if ok else "pending")
            why = d.get("evidence") if ok else d.get("analysis")
            out.append(
                _line("check", f"{'passed' if ok else 'failed'}: {(why or '')[:140]}", "yellow")
            )
        elif event.event in ("stopped", "approval", "resume", "learned"):
            out.append(_line(event.event, json.dumps(d)[:160], "red"))
        return out

    def _mark(self, index: int, status: str) -> None:
        for s in self.plan:
            if s.get("id", s["index"]) == index:
                s["status"] = status


def _line(tag: str, text: str, style: str) -> Text:
    line = Text(f"{tag:>7} ", style=f"bold {style}".strip())
    line.append(" ".join(text.split()), style=style)
    return line


class LinePrinter:
    """Prints one line per thing that happens (no live redraw), under a header."""

    def __init__(self, label: str, console: Console | None = None) -> None:
        self.console = console or Console()
        self.console.rule(label)
        self.feed = Feed()

    def __call__(self, event: Event) -> None:
        for line in self.feed.lines(event):
            self.console.print(line)
        if event.event == "plan":
            for s in self.feed.plan:
                self.console.print(f"   plan {s['index'] + 1}. {s['goal']}")


class LiveView:
    """A live panel: the plan with each subtask's status, and the latest lines."""

    def __init__(self, console: Console | None = None, lines: int = 10) -> None:
        self.console = console or Console()
        self.feed = Feed()
        self.lines: deque[Text] = deque(maxlen=lines)
        self._live = Live(self._render(), console=self.console, refresh_per_second=8)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.__exit__(exc_type, exc, tb)

    def __call__(self, event: Event) -> None:
        self.lines.extend(self.feed.lines(event))
        self._live.update(self._render())

    def _render(self) -> Group:
        plan = Table.grid(padding=(0, 1))
        for s in self.feed.plan:
            plan.add_row(STATUS.get(s["status"], "?"), f"{s['index'] + 1}.", s["goal"])
        return Group(Text(f"plan · step {self.feed.steps}", style="bold"), plan, *self.lines)


def print_summary(result: RunResult, memory: Any, console: Console | None = None) -> None:
    """Outcome, answer, usage and cost, and what was learned (ids included)."""
    console = console or Console()
    console.print()
    style = "green" if result.achieved else "red"
    console.print(f"[bold {style}]{result.outcome}[/]  thread {result.thread_id}")
    if result.stop_reason:
        console.print(f"stopped: {result.stop_reason}")
    if result.final_answer:
        console.print(f"[bold]answer:[/] {result.final_answer}")
    u = result.usage
    console.print(
        f"{result.steps} steps, {u.calls} model calls, {u.input_tokens} in / {u.output_tokens} out"
        f" tokens ({u.cached_tokens} cached), ${u.cost_usd:.4f}, {result.elapsed_s:.1f} s"
    )
    if result.items_written and memory is not None:
        table = Table("id", "level", "status", "trust", "title", title="learned")
        for item_id in result.items_written:
            item = memory.get(item_id)
            if item is not None:
                table.add_row(item.id, item.level, item.status, item.trust, item.title)
        console.print(table)
    if result.outcome == "interrupted" or (result.stop_reason and not result.achieved):
        console.print(f"continue with: journeyman resume {result.thread_id}")


def print_demo(report: DemoReport, console: Console | None = None) -> None:
    """The side-by-side table of the demo's two runs and where to look at the memory."""
    console = console or Console()
    table = Table(
        "", *(r.label for r in report.runs), title=f"journeyman demo (seed {report.seed})"
    )
    rows = [
        ("outcome (agent)", lambda r: r.outcome),
        ("output checked by code", lambda r: "correct" if r.correct else "wrong or missing"),
        ("experience used", lambda r: str(len(r.items_used))),
        ("skills called", lambda r: str(len(r.skill_calls))),
        ("items learned", lambda r: str(len(r.items_written))),
        ("steps", lambda r: str(r.steps)),
        ("model calls", lambda r: str(r.calls)),
        ("tokens", lambda r: str(r.tokens)),
        ("time", lambda r: f"{r.elapsed_s:.1f} s"),
    ]
    for name, get in rows:
        table.add_row(name, *(get(r) for r in report.runs))
    console.print(table)
    for line in report.notes:
        console.print(line)
