"""`journeyman run`, `resume`, `session` and `demo`: thin commands over agent.runner.

All printing lives here (and in agent/cli/_view.py); heavy imports stay inside the
functions so that `journeyman --help` stays fast.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from agent.build import Agent
    from agent.config import Settings
    from agent.runner import RunResult

WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", "-w", help="Folder the tools work in (default: .).")
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model profile name.")]
MemoryOpt = Annotated[
    Path | None, typer.Option("--memory", help="Memory folder (default: settings.memory.path).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Stream JSONL events to stdout.")]
NamespaceOpt = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Memory namespace written (default: settings)."),
]
ReadOpt = Annotated[
    list[str] | None,
    typer.Option("--read", "-r", help="Another memory namespace read (repeat; default: settings)."),
]


def register(app: typer.Typer) -> None:
    """Add the top-level run commands to the main app."""
    app.command("run")(run)
    app.command("resume")(resume)
    app.command("session")(session)
    app.command("demo")(demo)


def _settings(
    max_steps: int | None = None, namespace: str | None = None, read: list[str] | None = None
) -> Settings:
    from agent.cli.memory import namespace_overrides
    from agent.config import load_settings

    overrides = namespace_overrides(namespace, read)
    settings = load_settings()
    if max_steps is not None:
        settings.limits.max_steps = max_steps
    if overrides:
        settings.memory = settings.memory.model_copy(update=overrides)
    return settings


def run(
    task: Annotated[str, typer.Argument(help="What to do, in plain words.")],
    workspace: WorkspaceOpt = None,
    model: ModelOpt = None,
    memory: MemoryOpt = None,
    no_learn: Annotated[
        bool, typer.Option("--no-learn", help="Use memory, write nothing.")
    ] = False,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Total step budget.")] = None,
    json_: JsonOpt = False,
    namespace: NamespaceOpt = None,
    read: ReadOpt = None,
) -> None:
    """Run one task: plan, act, reflect, learn. Exit 0 when achieved, 1 when not."""
    settings = _settings(max_steps, namespace, read)
    result = asyncio.run(
        _run_one(
            settings,
            task,
            profile=model,
            workspace=workspace,
            memory=memory,
            learn=not no_learn,
            json_mode=json_,
        )
    )
    raise typer.Exit(0 if result.achieved else 1)


async def _run_one(
    settings: Settings,
    task: str,
    *,
    profile: str | None,
    workspace: Path | None,
    memory: Path | None,
    learn: bool,
    json_mode: bool,
) -> RunResult:
    from agent.build import open_agent
    from agent.cli._approve import terminal_approver
    from agent.runner import run_task

    async with open_agent(
        settings, profile=profile, workspace=workspace, memory=memory, learn=learn
    ) as agent:
        return await _watch(
            agent,
            json_mode,
            lambda sink: run_task(agent, task, approve=terminal_approver(json_mode), on_event=sink),
        )


async def _watch(agent: Agent, json_mode: bool, start: Any) -> RunResult:
    from agent.cli._view import JsonSink, LiveView, print_summary

    if json_mode:
        return await start(JsonSink())  # type: ignore[no-any-return]
    with LiveView() as view:
        result: RunResult = await start(view)
    print_summary(result, agent.memory)
    return result


def resume(
    thread: Annotated[str, typer.Argument(help="Thread id of the run (its folder name).")],
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="The run's workspace here, e.g. a copy from the machine that started it "
            "(default: the folder it was started in).",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Continue a killed or interrupted run from its last checkpoint."""
    settings = _settings()
    result = asyncio.run(_resume(settings, thread, json_, workspace))
    raise typer.Exit(0 if result.achieved else 1)


async def _resume(
    settings: Settings, thread: str, json_mode: bool, workspace: Path | None = None
) -> RunResult:
    from agent.build import open_agent
    from agent.cli._approve import terminal_approver
    from agent.errors import ConfigError
    from agent.run_state import load_run_info
    from agent.runner import resume_task

    info = load_run_info(settings, thread)
    folder = workspace or Path(info["workspace"])
    if not folder.is_dir():
        raise ConfigError(
            f"the run's workspace {folder} is not on this machine: pass --workspace with a "
            "copy of it"
        )
    memory: Path | bool | None = False
    if info.get("memory"):  # a shared (PostgreSQL) store is the configured one, not a folder
        postgres = info.get("memory_backend") == "postgres"
        memory = None if postgres else Path(info["memory"])
    async with open_agent(
        settings,
        profile=info.get("profile"),
        workspace=folder,
        memory=memory,
        learn=bool(info.get("learn", True)),
    ) as agent:
        return await _watch(
            agent,
            json_mode,
            lambda sink: resume_task(
                agent, thread, approve=terminal_approver(json_mode), on_event=sink
            ),
        )


def session(
    workspace: WorkspaceOpt = None,
    model: ModelOpt = None,
    memory: MemoryOpt = None,
    no_learn: Annotated[
        bool, typer.Option("--no-learn", help="Use memory, write nothing.")
    ] = False,
    namespace: NamespaceOpt = None,
    read: ReadOpt = None,
) -> None:
    """An interactive session: task after task with the same memory (/help for commands)."""
    from agent.cli._session import run_session

    settings = _settings(namespace=namespace, read=read)
    asyncio.run(
        run_session(settings, profile=model, workspace=workspace, memory=memory, learn=not no_learn)
    )


def demo(
    model: ModelOpt = None,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the demo's memory and workspaces here.")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Which two instances of the demo's task family.")
    ] = 1,
) -> None:
    """Two tasks of one kind with one memory: the first run learns, the second uses it.

    Exits 0 when the second run's output is correct (checked by code), 1 when it is not."""
    from agent.cli._view import LinePrinter, print_demo
    from agent.demo import run_demo

    settings = _settings()
    report = asyncio.run(
        run_demo(settings, profile=model, keep=keep, seed=seed, on_event=LinePrinter)
    )
    print_demo(report)
    raise typer.Exit(0 if report.runs and report.runs[-1].correct else 1)
