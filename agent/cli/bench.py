"""`journeyman bench run` and `journeyman bench report`: thin commands over evals.bench.

All printing (the progress bar with running scores, the closing table) lives here; heavy
imports stay inside the functions so that `journeyman --help` stays fast.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from evals.bench import BenchEvent, BenchSummary

app = typer.Typer(
    help="Benchmark runs: learning protocols over task suites, reports.", no_args_is_help=True
)

PROTOCOL_HELP = "single | continual | transfer | no-memory"


def _names(value: str | None) -> list[str] | None:
    return [n.strip() for n in value.split(",") if n.strip()] if value else None


@app.command("run")
def run(
    suite: Annotated[str, typer.Argument(help="Suite to run (a folder of evals/suites).")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model profile, or module:function of a model factory (a scripted model).",
        ),
    ] = None,
    protocol: Annotated[str, typer.Option(help=PROTOCOL_HELP)] = "single",
    iterations: Annotated[int, typer.Option(min=1, help="Passes over the suite.")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Tasks run side by side.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Results folder.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out.")] = False,
    tasks: Annotated[str | None, typer.Option(help="Only these task names (a,b,c).")] = None,
    transfer_suite: Annotated[
        str | None, typer.Option(help="transfer: the suite run with frozen memory.")
    ] = None,
    transfer_tasks: Annotated[
        str | None, typer.Option(help="transfer: only these task names of it.")
    ] = None,
    memory_from: Annotated[
        Path | None,
        typer.Option(
            help="Start from this store (folder or snapshot .db); transfer: skip learning."
        ),
    ] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Step limit of every task.")] = None,
    time_limit: Annotated[
        float | None, typer.Option(min=1, help="Seconds per task (default: the task's).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option(help="One line per task instead of a progress bar.")
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Run the attempts on a Ray cluster: 'auto' (the one this machine joined) or "
            "the head's HOST:PORT; --workers actors, one Acme environment each.",
        ),
    ] = None,
    endpoints: Annotated[
        str | None,
        typer.Option(
            help="With --ray: model endpoints (base URLs a,b,...), worker i uses the i-th in "
            "turn (default: the profile's; a local profile starts one server per worker)."
        ),
    ] = None,
) -> None:
    """Run a suite under a learning protocol; results are appended as tasks finish."""
    from agent.config import load_settings
    from evals.bench import PROTOCOLS, BenchConfig

    if protocol not in PROTOCOLS:
        raise typer.BadParameter(f"choose one of {', '.join(PROTOCOLS)}", param_hint="--protocol")
    if endpoints and not ray:
        raise typer.BadParameter("model endpoints are for --ray runs", param_hint="--endpoints")
    if model and ":" in model:
        from agent.build import LLM_HOOK_ENV

        os.environ[LLM_HOOK_ENV] = model
        model = None
    out = out or Path("evals/results/tmp") / f"{suite}-{protocol}"
    config = BenchConfig(
        suite=suite,
        protocol=protocol,  # type: ignore[arg-type]
        model=model,
        iterations=iterations,
        workers=workers,
        out=out,
        resume=resume,
        tasks=_names(tasks),
        transfer_suite=transfer_suite,
        transfer_tasks=_names(transfer_tasks),
        memory_from=memory_from,
        max_steps=max_steps,
        time_limit_s=time_limit,
        command=shlex.join(["journeyman", *sys.argv[1:]]),
        ray=ray,
        endpoints=_names(endpoints),
    )
    summary = _run(load_settings(), config, quiet=quiet)
    _print_summary(summary)


def _run(settings: Any, config: Any, *, quiet: bool) -> BenchSummary:
    from rich.console import Console

    from evals.bench import run_bench

    console = Console(stderr=True)
    view = _LineView(console) if quiet or not console.is_terminal else _ProgressView(console)
    try:
        with view:
            return asyncio.run(run_bench(settings, config, on_event=view))
    except KeyboardInterrupt:
        console.print(
            f"[yellow]stopped[/]: the task in progress was abandoned; finished results are in "
            f"{config.out}. Continue with the same command and --resume."
        )
        raise typer.Exit(130) from None


class _Scores:
    """Running scores per (phase, iteration) for the progress line."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.by_iter: dict[tuple[str, int], list[float]] = {}

    def add(self, event: BenchEvent) -> None:
        if event.kind == "plan":
            self.total = event.total
        elif event.kind == "skip":
            self.done += event.total
        elif event.kind == "task_done" and event.result is not None:
            self.done += 1
            r = event.result
            self.by_iter.setdefault((r.phase, r.iteration), []).append(r.score)

    def line(self) -> str:
        parts = [
            f"{'' if phase == 'run' else phase + ' '}i{it}: {sum(s) / len(s):.2f}"
            for (phase, it), s in self.by_iter.items()
            if s
        ]
        return "mean " + "  ".join(parts) if parts else ""


class _LineView:
    """One line per finished task (for logs and pipes)."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.scores = _Scores()

    def __enter__(self) -> _LineView:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __call__(self, event: BenchEvent) -> None:
        self.scores.add(event)
        if event.kind == "plan":
            self.console.print(f"bench: {event.text}")
        elif event.kind == "skip":
            self.console.print(f"resume: {event.total} finished task(s) skipped ({event.text})")
        elif event.kind == "task_done" and event.result is not None:
            self.console.print(_task_line(event, self.scores))
        elif event.kind == "iteration_done" and event.iteration is not None:
            it = event.iteration
            self.console.print(
                f"{it.phase} iteration {it.iteration}: mean {it.mean_score:.3f}, "
                f"{it.full}/{it.tasks} full, memory {it.memory_active} active item(s)"
            )
        elif event.kind == "note":
            self.console.print(event.text)


def _task_line(event: BenchEvent, scores: _Scores) -> str:
    r = event.result
    assert r is not None
    return (
        f"[{scores.done}/{scores.total}] {r.phase} i{r.iteration} {r.task}: score {r.score:.2f} "
        f"({r.passed_points}/{r.total_points}) {r.outcome}, {r.steps} steps, "
        f"{r.tokens} tok, {r.wall_s:.0f}s" + (f" error: {r.error[:80]}" if r.error else "")
    )


class _ProgressView(_LineView):
    """A rich progress bar with the running mean score per iteration."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        super().__init__(console)
        self.progress = Progress(
            TextColumn("[bold]bench"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[scores]}"),
            TextColumn("[dim]{task.fields[now]}"),
            console=console,
        )
        self.bar = self.progress.add_task("bench", total=None, scores="", now="")

    def __enter__(self) -> _ProgressView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def __call__(self, event: BenchEvent) -> None:
        super().__call__(event)
        now = ""
        if event.kind == "task_start" and event.key is not None:
            now = f"{event.key.phase} i{event.key.iteration} {event.key.task}"
        self.progress.update(
            self.bar,
            total=self.scores.total or None,
            completed=self.scores.done,
            scores=self.scores.line(),
            now=now,
        )


def _print_summary(summary: BenchSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary.protocol}: {summary.out}")
    for col in ("phase", "iteration", "tasks", "mean score", "full", "tokens", "cost $"):
        table.add_column(col, justify="right" if col != "phase" else "left")
    groups: dict[tuple[str, int], list[Any]] = {}
    for r in summary.results:
        groups.setdefault((r.phase, r.iteration), []).append(r)
    for (phase, it), rows in groups.items():
        table.add_row(
            phase,
            str(it),
            str(len(rows)),
            f"{sum(r.score for r in rows) / len(rows):.3f}",
            str(sum(r.full for r in rows)),
            str(sum(r.tokens for r in rows)),
            f"{sum(r.cost_usd for r in rows):.4f}",
        )
    console = Console()
    console.print(table)
    console.print(
        f"{summary.ran} task(s) run, {summary.skipped} skipped; "
        f"report: journeyman bench report {summary.out}"
    )


@app.command("report")
def report(
    folder: Annotated[Path, typer.Argument(help="A results folder of `bench run`.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write report.json/report.html (default: FOLDER).")
    ] = None,
) -> None:
    """Write report.json and a static report.html (tables, learning curve, memory, cost)."""
    from evals.report import write_report

    try:
        paths = write_report(folder, out=out)
    except FileNotFoundError as exc:
        typer.echo(f"journeyman: error: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in paths:
        typer.echo(str(path))
