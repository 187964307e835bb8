"""What a report shows of a learning curve, as pure functions of the results.

Per iteration of each curve: the mean partial score with a bootstrap interval over the
instances, the full-success rate, and LLM calls and tokens per solved task; per family, the
first and the last iteration side by side; which memory items the solved tasks had in their
prompts. Also how paths are written so that a report holds no machine's folders.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from evals.bench.records import TaskResult
from evals.stats import bootstrap_ci


class CurvePoint(BaseModel):
    """One point of a learning curve: the instances of one iteration."""

    iteration: int
    mean_score: float
    attempts: int
    ci_low: float = 0.0
    ci_high: float = 0.0
    full_rate: float = 0.0
    solved: int = 0
    calls_per_solved: float | None = Field(
        default=None, description="Mean LLM calls of the fully solved attempts."
    )
    tokens_per_solved: float | None = Field(
        default=None, description="Mean tokens of the fully solved attempts."
    )


class FamilyRow(BaseModel):
    """One family on one curve: its first and its last iteration."""

    curve: str
    family: str
    first_iteration: int
    first_score: float
    first_full: int
    first_attempts: int
    last_iteration: int
    last_score: float
    last_full: int
    last_attempts: int


class ItemUse(BaseModel):
    """A memory item that was in the prompt of fully solved attempts."""

    item: str
    title: str = ""
    solved_uses: int
    iterations: list[int]


def curve_point(iteration: int, rows: list[TaskResult]) -> CurvePoint:
    """The point of one iteration (``rows``: its attempts)."""
    ci = bootstrap_ci([r.score for r in rows])
    solved = [r for r in rows if r.full]
    return CurvePoint(
        iteration=iteration,
        mean_score=ci.mean,
        attempts=len(rows),
        ci_low=ci.low,
        ci_high=ci.high,
        full_rate=round(len(solved) / len(rows), 4),
        solved=len(solved),
        calls_per_solved=round(sum(r.llm_calls for r in solved) / len(solved), 2)
        if solved
        else None,
        tokens_per_solved=round(sum(r.tokens for r in solved) / len(solved), 1) if solved else None,
    )


def _mean(xs: list[float]) -> float:
    return round(sum(xs) / len(xs), 4) if xs else 0.0


def family_rows(by_curve: dict[str, dict[int, list[TaskResult]]]) -> list[FamilyRow]:
    """Per curve and family, the first and the last iteration that family appears in."""
    rows: list[FamilyRow] = []
    for curve, points in sorted(by_curve.items()):
        by_family: dict[str, dict[int, list[TaskResult]]] = defaultdict(dict)
        for iteration, results in points.items():
            for r in results:
                by_family[r.family].setdefault(iteration, []).append(r)
        for family, its in sorted(by_family.items()):
            first, last = its[min(its)], its[max(its)]
            rows.append(
                FamilyRow(
                    curve=curve,
                    family=family,
                    first_iteration=min(its),
                    first_score=_mean([r.score for r in first]),
                    first_full=sum(r.full for r in first),
                    first_attempts=len(first),
                    last_iteration=max(its),
                    last_score=_mean([r.score for r in last]),
                    last_full=sum(r.full for r in last),
                    last_attempts=len(last),
                )
            )
    return rows


def items_used(
    by_curve: dict[str, dict[int, list[TaskResult]]], titles: dict[str, str]
) -> dict[str, list[ItemUse]]:
    """Per curve, the items in the prompts of fully solved attempts, most used first."""
    out: dict[str, list[ItemUse]] = {}
    for curve, points in sorted(by_curve.items()):
        uses: dict[str, list[int]] = defaultdict(list)
        for iteration, results in sorted(points.items()):
            for r in results:
                if r.full:
                    for item in dict.fromkeys(r.items_used):
                        uses[item].append(iteration)
        if uses:
            out[curve] = [
                ItemUse(
                    item=item,
                    title=titles.get(item, ""),
                    solved_uses=len(its),
                    iterations=sorted(set(its)),
                )
                for item, its in sorted(uses.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            ]
    return out
