"""The ``journeyman`` command line: the top of the house.

One module per command group. Each keeps its heavy imports inside the command
functions so that ``journeyman --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from agent.cli import bench, config, doctor, env, mcp, memory, model, run
from agent.cli._errors import FatalErrorsGroup

app = typer.Typer(
    name="journeyman",
    help="A self-evolving agent: plans, acts, reflects, and remembers what it learned.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=FatalErrorsGroup,  # the one place known failures become one line and exit code 2
)
app.add_typer(config.app, name="config")
app.add_typer(model.app, name="model")
app.add_typer(memory.app, name="memory")
app.add_typer(env.app, name="env")
app.add_typer(bench.app, name="bench")
app.add_typer(mcp.app, name="mcp")
run.register(app)
doctor.register(app)


def main() -> None:
    """Console entry point (known failures are reported by :class:`FatalErrorsGroup`)."""
    try:
        app()
    except KeyboardInterrupt:
        print("journeyman: interrupted", file=sys.stderr)
        sys.exit(130)
