"""The CLI's one error boundary: a known failure becomes one line on stderr and its exit code.

Known failures are exceptions that satisfy :class:`agent.errors.FatalError` (an
``exit_code`` and a message), whatever package raised them: ``memory`` and ``tools``
cannot import ``agent``, so the check is structural. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from agent.errors import FatalError

PREFIX = "journeyman: error: "


def find_fatal(exc: BaseException) -> FatalError | None:
    """The known failure ``exc`` is, or the first one inside an exception group. Click's
    own exits (``typer.Exit(1)``, a usage error) carry an ``exit_code`` too; they are
    no failure to report and go on to click."""
    if type(exc).__module__.partition(".")[0] in ("typer", "click"):
        return None  # their classes move between versions (typer 0.29 vendors click)
    if isinstance(exc, FatalError) and isinstance(exc.exit_code, int):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = find_fatal(inner)
            if found is not None:
                return found
    return None


def one_line(error: object) -> str:
    """The error's message on one line (a multi-line message would read as several errors)."""
    return " ".join(str(error).split()) or type(error).__name__


class FatalErrorsGroup(TyperGroup):
    """The root command group: every command runs inside this one boundary."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; report a known failure as one line and exit with its code."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            fatal = find_fatal(exc)
            if fatal is None:
                raise
            print(PREFIX + one_line(fatal), file=sys.stderr)
            raise typer.Exit(fatal.exit_code) from None
