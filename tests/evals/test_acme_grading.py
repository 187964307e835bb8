"""Graders on half-done states award the right partial points; the score rule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from evals.acme import Environment
from evals.acme.manager import APP_NETWORK
from evals.grading import Checkpoint, combine, grade
from evals.oracles.actions import Actions
from evals.tasks import Task, load_suite
from tools import ToolContext, ToolSettings, default_registry


def test_score_rule() -> None:
    cps = [
        Checkpoint(name="a", points=1, passed=True),
        Checkpoint(name="b", points=3, passed=False),
    ]
    res = combine("t", cps)
    assert (res.passed_points, res.total_points, res.full) == (1, 4, False)
    assert res.score == pytest.approx(0.125)
    full = combine("t", [Checkpoint(name="a", passed=True)])
    assert full.score == 1.0 and full.full
    assert combine("t", [Checkpoint(name="a", passed=False)]).score == 0.0


def _task(suite: str, name: str) -> Task:
    return next(t for t in load_suite(suite) if t.name == name)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    environment = Environment(tmp_path_factory.mktemp("acme") / "run")
    yield environment
    environment.purge()


@pytest.fixture
async def act_for(env: Environment, tmp_path: Path) -> AsyncIterator:
    """Prepare a task and give an Actions (tool calls) to build a half-done state."""
    contexts: list[ToolContext] = []

    async def make(task: Task) -> Actions:
        task.prepare(env, tmp_path)
        ctx = ToolContext(tmp_path, ToolSettings(sandbox_network=APP_NETWORK))
        contexts.append(ctx)
        urls = {**env.urls(), "workspace": str(tmp_path)}
        return Actions(task, urls, default_registry(enabled=("files", "shell")), ctx)

    yield make
    for ctx in contexts:
        await ctx.aclose()


def _failed(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.name for c in result.checkpoints if not c.passed]


async def test_duplicate_closed_without_comment(env: Environment, act_for, tmp_path: Path) -> None:
    task = _task("smoke", "close-duplicate")
    act = await act_for(task)
    await act.trac_update(5, action="resolve", resolution="duplicate")
    res = grade(task, env, tmp_path)
    assert _failed(res) == ["a comment on #5 names #2"]
    assert (res.passed_points, res.total_points) == (3, 4)
    assert res.score == pytest.approx(0.375)


async def test_milestone_without_description(env: Environment, act_for, tmp_path: Path) -> None:
    task = _task("acme", "release-milestone-v3")
    act = await act_for(task)
    await act.trac_milestone("v3.0", due="2027-01-29")
    res = grade(task, env, tmp_path)
    assert _failed(res) == ["description mentions 'new dashboard'"]
    assert res.score == pytest.approx(0.5 * 2 / 3, abs=1e-4)


async def test_totals_with_one_wrong_number(env: Environment, act_for, tmp_path: Path) -> None:
    from evals.acme import datagen

    task = _task("smoke", "expense-totals")
    act = await act_for(task)
    totals = datagen.expense_totals(1, 24)
    first = next(iter(totals))
    rows = "".join(f"{k},{v + (1 if k == first else 0):.2f}\n" for k, v in totals.items())
    await act.write("totals.csv", "department,total\n" + rows)
    res = grade(task, env, tmp_path)
    assert _failed(res) == ["every total correct to the cent"]
    assert (res.passed_points, res.total_points) == (2, 4)
    assert res.score == pytest.approx(0.25)


async def test_onboarding_with_only_the_wiki_page(
    env: Environment, act_for, tmp_path: Path
) -> None:
    task = _task("acme", "onboarding-full-ana")
    act = await act_for(task)
    await act.trac_wiki(
        "People/AnaSouza",
        "Ana Souza, Backend Engineer, Engineering, manager Priya Raman, starts 2026-11-25",
    )
    res = grade(task, env, tmp_path)
    assert res.passed_points == 5
    assert res.total_points == 11
    assert res.score == pytest.approx(0.5 * 5 / 11, abs=1e-4)


async def test_meeting_in_the_wrong_room(env: Environment, act_for, tmp_path: Path) -> None:
    from datetime import datetime

    task = _task("acme", "meetings-book-budget")
    act = await act_for(task)
    p = task.spec.params
    await act.calendar_add(
        "budget",
        p["summary"],
        datetime.fromisoformat(p["start"]),
        datetime.fromisoformat(p["end"]),
        attendees=p["attendees"],
        location="Cafeteria",
    )
    res = grade(task, env, tmp_path)
    assert _failed(res) == ["right location"]
    assert res.score == pytest.approx(0.4)


async def test_release_notes_on_the_wiki_only(env: Environment, act_for, tmp_path: Path) -> None:
    task = _task("acme", "release-notes-v23")
    act = await act_for(task)
    await act.trac_wiki("ReleaseNotes/v2.3", " * #1\n * #2\n * #8\n * #12\n")
    res = grade(task, env, tmp_path)
    assert sorted(_failed(res)) == [
        "Shared/release-notes-v2.3.txt lists every closed ticket",
        "mail to nina about v2.3",
    ]
    assert (res.passed_points, res.total_points) == (4, 6)


async def test_over_limit_tickets_without_the_mail(
    env: Environment, act_for, tmp_path: Path
) -> None:
    from evals.acme import datagen

    task = _task("acme", "expenses-over-limit-500")
    act = await act_for(task)
    over = [r for r in datagen.expense_rows(6, 24) if r["amount"] > 500]
    for r in over:
        await act.trac_new_ticket(
            summary=f"Review expense {r['id']}", component="finance", owner="rachel"
        )
    res = grade(task, env, tmp_path)
    assert _failed(res) == ["rachel mailed the count and the total"]
    assert (res.passed_points, res.total_points) == (4, 6)
