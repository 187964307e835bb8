"""Instance generators: deterministic per seed, different across seeds, solvable, gradable.

The oracle and null runs go against the real Acme apps (one environment for the module):
a sample of seeds here, every family and tier on three seeds under ``-m slow``.
"""

from __future__ import annotations

import filecmp
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.acme import Environment
from evals.grading import resolve
from evals.oracles.check import check_tasks
from evals.suites._build import write_all
from evals.suites._families import all_tasks
from evals.suites._instances import (
    FAMILIES,
    SUITE,
    UnknownInstance,
    instance,
    tiers,
    write_instances,
)
from evals.tasks import SUITES_DIR, load_suite

PAIRS = [(f, t) for f in FAMILIES for t in FAMILIES[f]]


def test_tiers_cover_micro_and_short_in_at_least_four_families() -> None:
    assert sum("micro" in tiers(f) for f in FAMILIES) >= 4
    assert sum("short" in tiers(f) for f in FAMILIES) >= 4


@pytest.mark.parametrize(("family", "tier"), PAIRS)
def test_same_seed_same_instance(family: str, tier: str) -> None:
    for seed in range(4):
        a, b = instance(family, tier, seed), instance(family, tier, seed)
        assert (a.text, a.spec) == (b.text, b.spec)
        assert a.spec["difficulty"] == tier


@pytest.mark.parametrize(("family", "tier"), PAIRS)
def test_seeds_give_other_data_and_wordings(family: str, tier: str) -> None:
    specs = [instance(family, tier, seed) for seed in range(12)]
    assert len({s.name for s in specs}) == 12
    # the text, or the data the apps start with (a request in the mailbox), differs
    assert len({repr((s.text, s.spec["seed"])) for s in specs}) == 12
    params = [repr(sorted(s.spec["params"].items())) for s in specs]
    assert len(set(params)) >= 10, "the data differs (ids, amounts, people, files)"
    # the request's first words differ between templates; at least two appear in 12 seeds
    openings = {s.text.split("\n\n")[2][:25] for s in specs}
    assert len(openings) >= 2, openings


def test_instances_load_as_tasks(tmp_path: Path) -> None:
    specs = [instance(f, t, seed) for f, t in PAIRS for seed in (0, 1)]
    write_instances(specs, tmp_path)
    tasks = load_suite(SUITE, tmp_path)
    assert len(tasks) == len(specs)
    for t in tasks:
        assert t.spec.difficulty in ("micro", "short")
        assert callable(resolve(t.spec.grader)) and callable(resolve(t.spec.solution))
        assert all(f.text() for f in t.spec.seed.files)
        prompt = t.prompt({p: f"<{p}>" for p in t.placeholders})
        assert not re.search(r"\{[a-z_]+\}", prompt), t.id


def test_unknown_family_or_tier_is_a_clear_error() -> None:
    with pytest.raises(UnknownInstance, match=r"no instance family 'payroll'.*expenses"):
        instance("payroll", "micro", 1)
    with pytest.raises(UnknownInstance, match="no 'long' tier"):
        instance("expenses", "long", 1)


def test_fixed_suites_regenerate_byte_identical(tmp_path: Path) -> None:
    write_all(all_tasks(), tmp_path)
    for suite in ("smoke", "acme", "acme-transfer"):
        cmp = filecmp.dircmp(SUITES_DIR / suite, tmp_path / suite)
        assert not (cmp.left_only or cmp.right_only), suite
        for sub in cmp.common_dirs:
            for name in ("task.md", "task.yaml"):
                a, b = SUITES_DIR / suite / sub / name, tmp_path / suite / sub / name
                assert a.read_bytes() == b.read_bytes(), (suite, sub, name)


# -- against the real apps -----------------------------------------------------------------
@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    environment = Environment(tmp_path_factory.mktemp("acme") / "run")
    yield environment
    environment.purge()


async def _check(env: Environment, root: Path, specs: list) -> None:  # type: ignore[type-arg]
    write_instances(specs, root / "suites")
    results = await check_tasks(load_suite(SUITE, root / "suites"), env, root / "work")
    bad = [(r.task_id, r.oracle, r.null, r.failed) for r in results if not r.ok]
    assert not bad, bad
    assert len(results) == len(specs)


async def test_sample_oracle_full_null_zero(env: Environment, tmp_path: Path) -> None:
    """A sample on seeds never used above: both tiers, and every app but chat among them
    (the slow test below covers every family and tier; this one keeps the default run short)."""
    sample = [
        ("expenses", "short"),  # files, trac, mail
        ("it-support", "micro"),  # mail
        ("meetings", "short"),  # mail, calendar
        ("ticket-triage", "micro"),  # trac
    ]
    specs = [instance(f, t, 40 + i) for i, (f, t) in enumerate(sample)]
    await _check(env, tmp_path, specs)


@pytest.mark.slow
async def test_every_family_and_tier_oracle_full_null_zero(
    env: Environment, tmp_path: Path
) -> None:
    await _check(env, tmp_path, [instance(f, t, s) for f, t in PAIRS for s in (100, 101, 102)])
