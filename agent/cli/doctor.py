"""``journeyman doctor``: one line per precondition, with the fix; exit 0 when all hold."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``doctor`` command to ``app``."""

    @app.command()
    def doctor() -> None:
        """Check the install: Python, packages, llama.cpp build, models, a completion, browser,
        embeddings, memory store, Acme packages, disk. Each line gives the fix when it fails."""
        from agent.cli._doctor import run_checks
        from agent.config import load_settings

        results = run_checks(load_settings())
        for check in results:
            mark = "ok  " if check.ok and not check.warning else ("warn" if check.ok else "FAIL")
            line = f"{mark} {check.name}: {check.detail}"
            if check.fix and (not check.ok or check.warning):
                line += f"\n     fix: {check.fix}"
            typer.echo(line)
        failed = [c.name for c in results if not c.ok]
        if failed:
            typer.echo(f"{len(failed)} check(s) failed: {', '.join(failed)}", err=True)
            raise typer.Exit(1)
        typer.echo("all checks hold")
