"""`journeyman session`: task after task with one memory, and commands between tasks."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.runner import RunResult

HELP = """Type a task to run it. Commands:
  /memory [QUERY]   what is in memory (or what matches QUERY)
  /approve ID       make a candidate item active and trusted
  /reject ID        retire an item
  /forget-last      undo what the last task wrote to memory
  /history          the tasks of this session
  /help, /quit"""


class _Prompt:
    """Line input with history and editing: prompt_toolkit if installed, else readline."""

    def __init__(self, history: Path) -> None:
        history.parent.mkdir(parents=True, exist_ok=True)
        self._session: Any = None
        try:
            if not sys.stdin.isatty():  # piped tasks: prompt_toolkit would warn on stderr
                raise ImportError
            from prompt_toolkit import PromptSession
            from prompt_toolkit.history import FileHistory

            self._session = PromptSession(history=FileHistory(str(history)))
        except ImportError:
            import readline

            self._readline: Any = readline
            self._history = history
            if history.is_file():
                readline.read_history_file(str(history))

    async def ask(self, text: str) -> str:
        if self._session is not None:
            line: str = await self._session.prompt_async(text)
            return line
        line = await asyncio.to_thread(input, text)
        self._readline.write_history_file(str(self._history))
        return line


async def run_session(
    settings: Settings,
    *,
    profile: str | None,
    workspace: Path | None,
    memory: Path | None,
    learn: bool,
    console: Console | None = None,
) -> None:
    """Read tasks and commands until /quit or end of input."""
    from agent.build import open_agent

    console = console or Console()
    history: list[RunResult] = []
    starts: dict[str, float] = {}
    async with open_agent(
        settings, profile=profile, workspace=workspace, memory=memory, learn=learn
    ) as agent:
        prompt = _Prompt(agent.runs_dir.parent / "session_history")
        console.print(
            f"journeyman session · model {agent.profile_name} · workspace {agent.workspace}"
        )
        console.print("/help for commands")
        while True:
            try:
                line = (await prompt.ask("journeyman> ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            if line.startswith("/"):
                _command(line, agent.memory, history, starts, console)
                continue
            started = time.time()
            result = await _task(agent, line, console)
            history.append(result)
            starts[result.thread_id] = started


async def _task(agent: Any, task: str, console: Console) -> RunResult:
    from agent.cli._approve import terminal_approver
    from agent.cli._view import LiveView, print_summary
    from agent.runner import run_task

    with LiveView(console) as view:
        result = await run_task(agent, task, approve=terminal_approver(False), on_event=view)
    print_summary(result, agent.memory, console)
    return result


def _command(
    line: str, store: Any, history: list[RunResult], starts: dict[str, float], console: Console
) -> None:
    name, _, arg = line.partition(" ")
    arg = arg.strip()
    if name == "/help":
        console.print(HELP)
        return
    if name == "/history":
        for r in history:
            console.print(f"{r.thread_id}  {r.outcome:<9} {r.steps:>3} steps  {r.task[:70]}")
        return
    if store is None:
        console.print("no memory in this session")
        return
    from memory import MemoryStoreError

    try:
        if name == "/memory":
            _show_memory(store, arg, console)
        elif name == "/approve" and arg:
            item = store.approve(arg, reason="approved in a session")
            console.print(f"approved {item.id}: {item.title}")
        elif name == "/reject" and arg:
            item = store.retire(arg, reason="rejected in a session")
            console.print(f"retired {item.id}: {item.title}")
        elif name == "/forget-last":
            last = history[-1] if history else None
            _forget(store, last, starts.get(last.thread_id, 0.0) if last else 0.0, console)
        else:
            console.print(f"unknown command {line!r}\n{HELP}")
    except MemoryStoreError as exc:
        console.print(f"[red]{exc}[/]")


def _show_memory(store: Any, query: str, console: Console) -> None:
    items = [h.item for h in store.search(query, k=15)] if query else store.list_items(limit=20)
    table = Table("id", "level", "status", "trust", "used", "+/-", "title")
    for it in items:
        table.add_row(
            it.id, it.level, it.status, it.trust, str(it.retrieved), f"{it.success}/{it.failure}",
            it.title[:60],
        )  # fmt: skip
    console.print(table)


def _forget(store: Any, last: RunResult | None, started: float, console: Console) -> None:
    """Retire what the last task created; revert what it changed to the version before."""
    if last is None or not last.items_written:
        console.print("the last task wrote nothing")
        return
    for item_id in last.items_written:
        versions = store.history(item_id)
        before = [v for v in versions if v.created_at < started]
        if not before:
            store.retire(item_id, reason=f"forget-last: written by {last.thread_id}")
            console.print(f"retired {item_id}")
        else:
            store.revert(item_id, before[-1].version)
            console.print(f"reverted {item_id} to version {before[-1].version}")
