"""Bootstrap intervals over instances."""

from __future__ import annotations

import random

import pytest

from evals.stats import Interval, bootstrap_ci


def test_constant_scores_give_a_point() -> None:
    ci = bootstrap_ci([0.5] * 7)
    assert (ci.mean, ci.low, ci.high, ci.n) == (0.5, 0.5, 0.5, 7)


def test_interval_holds_the_mean_and_is_deterministic() -> None:
    values = [0.0, 0.25, 1.0, 1.0, 0.5, 0.0, 1.0, 0.75]
    ci = bootstrap_ci(values)
    assert ci.low < ci.mean < ci.high
    assert ci.mean == pytest.approx(sum(values) / len(values), abs=1e-4)
    assert bootstrap_ci(values) == ci
    assert 0.0 <= ci.low and ci.high <= 1.0


def test_more_instances_give_a_narrower_interval() -> None:
    rng = random.Random(3)
    few = [rng.choice([0.0, 1.0]) for _ in range(8)]
    many = few * 8
    a, b = bootstrap_ci(few), bootstrap_ci(many)
    assert b.high - b.low < a.high - a.low


def test_higher_level_is_wider() -> None:
    values = [0.0, 1.0, 0.5, 0.25, 1.0, 0.0]
    narrow, wide = bootstrap_ci(values, level=0.5), bootstrap_ci(values, level=0.99)
    assert wide.low <= narrow.low and narrow.high <= wide.high
    assert (wide.high - wide.low) > (narrow.high - narrow.low)


def test_coverage_of_a_known_mean() -> None:
    """About 95% of intervals from samples of a known distribution hold its mean."""
    rng = random.Random(11)
    hits = 0
    for trial in range(200):
        sample = [rng.choice([0.0, 0.25, 1.0]) for _ in range(30)]
        ci = bootstrap_ci(sample, resamples=400, seed=trial)
        hits += ci.low <= 1.25 / 3 <= ci.high
    assert 0.88 <= hits / 200 <= 0.99


def test_overlap_and_bad_input() -> None:
    a = Interval(mean=0.2, low=0.1, high=0.3, n=5)
    assert a.overlaps(Interval(mean=0.35, low=0.3, high=0.4, n=5))
    assert not a.overlaps(Interval(mean=0.6, low=0.5, high=0.7, n=5))
    with pytest.raises(ValueError, match="at least one value"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1.0], level=1.5)
