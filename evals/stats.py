"""Confidence intervals of a mean over task instances: the percentile bootstrap.

Pure and deterministic (a seeded generator): the same scores give the same interval, so a
regenerated report does not move.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pydantic import BaseModel


class Interval(BaseModel):
    """A mean and its confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share a point."""
        return self.low <= other.high and other.low <= self.high


def bootstrap_ci(
    values: Sequence[float], *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Interval:
    """The mean of ``values`` with a percentile-bootstrap interval at ``level``.

    Each resample draws ``len(values)`` values with replacement; the interval holds the
    middle ``level`` of the resampled means. One value gives a zero-width interval.
    """
    if not values:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    n = len(values)
    mean = sum(values) / n
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    low = means[int(tail * (resamples - 1))]
    high = means[round((1 - tail) * (resamples - 1))]
    return Interval(mean=round(mean, 4), low=round(low, 4), high=round(high, 4), n=n)
