"""Instances of the ``sales-report`` family (data analysis): sales tables on the file share.

micro: total the revenue per region, product or month into a workspace CSV (read, write).
short: the same totals uploaded to the share, and a mail naming the best one (read,
write, upload, mail).
"""

from __future__ import annotations

import random
from typing import Any

from evals.suites._instances._common import people, wording
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "data-analysis", "family": "sales-report"}
_BY = {"region": "region", "product": "product", "month": "month (YYYY-MM, from `date`)"}


def _source(rng: random.Random, data_seed: int) -> str:
    folder = rng.choice(["Shared", "Sales", "Shared/sales"])
    return f"{folder}/{rng.choice(['sales-q3', 'orders-q3', 'q3-sales'])}-{data_seed}.csv"


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Revenue per region, product or month into a workspace file."""
    by = rng.choice(sorted(_BY))
    data_seed, rows = rng.randrange(100, 10_000), rng.randint(20, 45)
    source = _source(rng, data_seed)
    output = rng.choice(["revenue.csv", f"revenue-by-{by}.csv", "q3.csv"])
    body = wording(
        rng,
        [
            "`{source}` on the file share lists the Q3 sales. Write `{output}` in your "
            "workspace with the header `{by},revenue` and one row per {what} giving the sum "
            "of `revenue` (two decimals).",
            "Total the `revenue` column of `{source}` (file share) per {what} and save it in "
            "your workspace as `{output}`: header `{by},revenue`, two decimals.",
            "Dana wants the Q3 revenue per {what}. The sales lines are in `{source}` on the "
            "file share; put the sums into `{output}` in your workspace (header "
            "`{by},revenue`, one row per {by}, two decimals).",
        ],
        source=source,
        output=output,
        by=by,
        what=_BY[by],
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Q3 revenue by {by}", f"Revenue per {by}"]),
        difficulty="micro",
        apps=["files"],
        body=body,
        grader="evals.graders.finance:grade_sales_totals",
        solution="evals.oracles.finance:solve_sales_totals",
        params={"source": source, "seed": data_seed, "rows": rows, "by": by, "output": output},
        seed={"files": [_csv(source, data_seed, rows)]},
        max_steps=10,
        **FAMILY,
    )


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Revenue per key uploaded to the share; the best key mailed to a colleague."""
    by = rng.choice(sorted(_BY))
    data_seed, rows = rng.randrange(100, 10_000), rng.randint(20, 45)
    source = _source(rng, data_seed)
    file = f"{rng.choice(['Shared/reports', 'Reports', 'Sales/reports'])}/revenue-by-{by}.csv"
    notify = people(rng, 1)[0]
    body = wording(
        rng,
        [
            "Using `{source}` from the file share, total the `revenue` per {what}. Upload the "
            "result to the share as `{file}` (header `{by},revenue`, two decimals) and email "
            "{email} which {by} had the highest revenue.",
            "{first} ({email}) asked for the Q3 revenue per {what}. Sum `revenue` in "
            "`{source}` (file share), store the table on the share as `{file}` with the "
            "header `{by},revenue` (two decimals), then mail {first} the {by} with the most "
            "revenue.",
            "Build a revenue table per {what} from `{source}` on the file share, upload it as "
            "`{file}` (columns `{by},revenue`, two decimals), and tell {email} by email which "
            "{by} came out on top.",
        ],
        source=source,
        file=file,
        by=by,
        what=_BY[by],
        email=notify.email,
        first=notify.name.split()[0],
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Share the Q3 revenue by {by}", f"Revenue report per {by}"]),
        difficulty="short",
        apps=["files", "mail"],
        body=body,
        grader="evals.graders.finance:grade_sales_upload",
        solution="evals.oracles.finance:solve_sales_upload",
        params={
            "source": source,
            "seed": data_seed,
            "rows": rows,
            "by": by,
            "file": file,
            "notify": notify.user,
        },
        seed={"files": [_csv(source, data_seed, rows)]},
        max_steps=20,
        **FAMILY,
    )


def _csv(path: str, data_seed: int, rows: int) -> dict[str, object]:
    return {"path": path, "generate": "sales_csv", "args": {"seed": data_seed, "rows": rows}}


TIERS = {"micro": micro, "short": short}
