"""The CLI's one error boundary: which errors it reports, and how."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from agent.cli._errors import FatalErrorsGroup, find_fatal, one_line
from agent.errors import FatalError, JourneymanError
from evals.acme.errors import AcmeError
from evals.bench import BenchError
from memory import MemoryStoreError
from memory.errors import StoreCorrupt
from tools import BrowserNotFound, ToolSetupError


@pytest.mark.parametrize(
    "root", [JourneymanError, MemoryStoreError, ToolSetupError, BenchError, AcmeError]
)
def test_every_package_root_is_a_fatal_error_with_exit_2(root: type[Exception]) -> None:
    error = root("what went wrong; how to fix it")
    assert isinstance(error, FatalError)
    assert error.exit_code == 2


def test_find_fatal_looks_inside_exception_groups() -> None:
    inner = BrowserNotFound("no Chromium browser found")
    group = ExceptionGroup("tasks", [ValueError("a bug"), ExceptionGroup("more", [inner])])
    assert find_fatal(group) is inner
    assert find_fatal(ValueError("a bug")) is None  # a bug keeps its traceback
    assert find_fatal(ExceptionGroup("bugs", [KeyError("x")])) is None


def test_one_line_joins_a_multi_line_message() -> None:
    assert one_line(StoreCorrupt("mem/memory.db is damaged;\n  restore a snapshot")) == (
        "mem/memory.db is damaged; restore a snapshot"
    )
    assert one_line(ToolSetupError("")) == "ToolSetupError"


def _app(error: Exception) -> typer.Typer:
    app = typer.Typer(cls=FatalErrorsGroup, pretty_exceptions_enable=False)

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def fine() -> None:
        print("ok")

    return app


def test_group_reports_known_failures_and_lets_bugs_through() -> None:
    runner = CliRunner()
    res = runner.invoke(_app(StoreCorrupt("mem/memory.db is damaged")), ["boom"])
    assert res.exit_code == 2
    assert res.stderr == "journeyman: error: mem/memory.db is damaged\n"
    res = runner.invoke(_app(RuntimeError("a bug")), ["boom"])
    assert isinstance(res.exception, RuntimeError)  # not swallowed into a one-liner
    assert runner.invoke(_app(RuntimeError("a bug")), ["fine"]).exit_code == 0


@pytest.mark.parametrize("code", [0, 1])
def test_a_command_s_own_exit_is_no_error(code: int) -> None:
    """`journeyman demo` ended a correct run with "journeyman: error: 0" on stderr:
    typer.Exit has an exit_code, so it looked like a known failure."""
    res = CliRunner().invoke(_app(typer.Exit(code)), ["boom"])
    assert res.exit_code == code and res.stderr == ""
    assert find_fatal(typer.Exit(code)) is None
    assert find_fatal(typer.Abort()) is None and find_fatal(click.UsageError("no")) is None
