"""The smoke suite end to end: oracle (tool calls only) scores 1.0, the null run 0.0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.acme import Environment
from evals.oracles.check import check_task
from evals.tasks import load_suite

SMOKE = load_suite("smoke")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    environment = Environment(tmp_path_factory.mktemp("acme") / "run")
    yield environment
    environment.purge()


@pytest.mark.parametrize("task", SMOKE, ids=[t.name for t in SMOKE])
async def test_smoke_oracle_and_null(task, env: Environment, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = await check_task(task, env, tmp_path)
    assert result.null == 0.0, result
    assert result.oracle == 1.0, result
