"""Instances of the ``expenses`` family (finance): claims tables on the file share.

micro: total a claims table per column into a workspace CSV (read, write).
short: flag the claims above a limit with one Trac ticket each and mail the count and
total (read, two or three tickets, one mail).
"""

from __future__ import annotations

import math
import random
from typing import Any

from evals.acme import datagen
from evals.suites._instances._common import backlog, wording
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "finance", "family": "expenses"}


def _source(rng: random.Random, data_seed: int) -> str:
    stem = rng.choice(["expenses", "claims", "expense-claims"])
    return f"Finance/{stem}-{data_seed}.csv"


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Sum a claims table per department, category or employee into a workspace file."""
    by = rng.choice(["department", "category", "employee"])
    data_seed, rows = rng.randrange(100, 10_000), rng.randint(12, 30)
    source = _source(rng, data_seed)
    output = rng.choice(["totals.csv", f"{by}-totals.csv", "summary.csv"])
    body = wording(
        rng,
        [
            "The expense claims are on the file share as `{source}`. Write `{output}` in your "
            "workspace with the header `{by},total` and one row per {by} giving the sum of "
            "`amount` (two decimals).",
            "Finance needs the claims in `{source}` (file share) summed per {by}. Save the "
            "result in your workspace as `{output}`: header `{by},total`, one row per {by}, "
            "sums with two decimals.",
            "Sum the `amount` column of `{source}` on the file share for each {by} and put "
            "the sums into `{output}` in your workspace (header `{by},total`, two decimals).",
        ],
        source=source,
        output=output,
        by=by,
    )
    title = rng.choice([f"Expense totals by {by}", f"Sum the claims per {by}"])
    return task(
        suite,
        name,
        title=title,
        difficulty="micro",
        apps=["files"],
        body=body,
        grader="evals.graders.finance:grade_expense_totals",
        solution="evals.oracles.finance:solve_expense_totals",
        params={"source": source, "seed": data_seed, "rows": rows, "by": by, "output": output},
        seed={"files": [_csv(source, data_seed, rows)]},
        max_steps=10,
        **FAMILY,
    )


def _limit(amounts: list[float], flagged: int) -> float | None:
    """A round limit with exactly ``flagged`` amounts above it, or None."""
    top = sorted(amounts, reverse=True)
    if len(top) <= flagged:
        return None
    above, below = top[flagged - 1], top[flagged]
    for limit in (math.ceil(below / 50) * 50, math.ceil(below / 10) * 10, math.ceil(below)):
        if below <= limit < above:
            return float(limit)
    return None


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Tickets for the claims above a limit, and a mail with their count and total."""
    while True:  # a table where a round limit leaves two or three claims above it
        data_seed, rows = rng.randrange(100, 10_000), rng.randint(14, 28)
        amounts = [r["amount"] for r in datagen.expense_rows(data_seed, rows)]
        limit = _limit(amounts, rng.choice([2, 3]))
        if limit is not None:
            break
    shown = f"{limit:g}"
    tickets = backlog(rng, rng.randint(4, 12))
    source = _source(rng, data_seed)
    body = wording(
        rng,
        [
            "Policy: every expense claim above {limit} needs a review. In `{source}` on the "
            "file share, find the claims with `amount` above {limit}. For each, create a Trac "
            'ticket "Review expense <id>" (e.g. "Review expense EXP-00001") in component '
            "`finance`, owned by `rachel`. Then email rachel@acme.test how many claims you "
            "flagged and their total amount (two decimals).",
            "Rachel (rachel@acme.test) reviews every claim over {limit}. Check `{source}` on "
            "the file share: for each claim whose `amount` exceeds {limit}, open a Trac ticket "
            'titled "Review expense <id>" (like "Review expense EXP-00001"), component '
            "`finance`, owner `rachel`. Finish with an email to Rachel giving the number of "
            "flagged claims and their summed amount (two decimals).",
            "Claims above {limit} must be reviewed. Read `{source}` from the file share, "
            'create one Trac ticket per claim over {limit} named "Review expense <id>" '
            '(e.g. "Review expense EXP-00001") with component `finance` and owner `rachel`, '
            "and mail rachel@acme.test the count of those claims and their total (two "
            "decimals).",
        ],
        limit=shown,
        source=source,
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Flag expense claims over {shown}", f"Claims above {shown}"]),
        difficulty="short",
        apps=["files", "trac", "mail"],
        body=body,
        grader="evals.graders.finance:grade_over_limit",
        solution="evals.oracles.finance:solve_over_limit",
        params={
            "source": source,
            "seed": data_seed,
            "rows": rows,
            "limit": limit,
            "existing_tickets": len(tickets),
        },
        seed={"files": [_csv(source, data_seed, rows)], "trac": {"tickets": tickets}},
        max_steps=20,
        **FAMILY,
    )


def _csv(path: str, data_seed: int, rows: int) -> dict[str, object]:
    return {"path": path, "generate": "expenses_csv", "args": {"seed": data_seed, "rows": rows}}


TIERS = {"micro": micro, "short": short}
