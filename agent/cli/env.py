"""`journeyman env`: bring the Acme Corp apps up, down, reset them, show their status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The Acme Corp company environment (Trac, files, calendar, mail, chat).",
    no_args_is_help=True,
)

AppsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Apps: trac, files, calendar, mail, chat (default: all)."),
]
DirOpt = Annotated[
    Path | None,
    typer.Option("--dir", help="Run folder (default ~/.local/share/journeyman/acme)."),
]


def _env(run_dir: Path | None):  # type: ignore[no-untyped-def]
    from evals.acme.manager import Environment

    return Environment(run_dir)


def _print_status(env) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    table = Table("app", "state", "urls", "memory")
    for st in env.status():
        urls = " ".join(f"{k}={v}" for k, v in st.urls.items())
        state = "[green]up[/]" if st.running else "[red]down[/]"
        table.add_row(st.name, state, urls, f"{st.rss_bytes / 2**20:.0f} MiB")
    Console().print(table)
    typer.echo(f"run folder: {env.run_dir}")


@app.command()
def up(apps: AppsArg = None, run_dir: DirOpt = None) -> None:
    """Start these apps (all by default); already running ones are left as they are."""
    import time

    env = _env(run_dir)
    t0 = time.monotonic()
    env.up(apps)
    typer.echo(f"up in {time.monotonic() - t0:.1f} s")
    _print_status(env)


@app.command()
def down(apps: AppsArg = None, run_dir: DirOpt = None) -> None:
    """Stop these apps (all by default)."""
    stopped = _env(run_dir).down(apps)
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status(run_dir: DirOpt = None) -> None:
    """Show each app of the run folder: up or down, URLs, resident memory."""
    env = _env(run_dir)
    if not env.state_file.exists():
        typer.echo(f"no environment in {env.run_dir}: run `journeyman env up`")
        raise typer.Exit(1)
    _print_status(env)


@app.command()
def reset(apps: AppsArg = None, run_dir: DirOpt = None) -> None:
    """Restore these apps' base snapshots and restart them (all by default)."""
    env = _env(run_dir)
    env.reset(apps)
    _print_status(env)
