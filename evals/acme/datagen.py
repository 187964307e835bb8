"""Deterministic generators of seed files (CSV tables) and the facts graders need.

Every generator takes a ``seed`` and returns the same text for the same arguments, so a
task's data is fixed by its task.yaml; graders call the same functions to know the truth.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from evals.acme.company import EMPLOYEES

_DEPARTMENTS = ("Engineering", "HR", "Finance", "Operations", "Product", "IT")
_CATEGORIES = ("Travel", "Meals", "Software", "Hardware", "Training", "Office")
_REGIONS = ("North", "South", "East", "West")
_PRODUCTS = (("Widget", 25.0), ("Gadget", 40.0), ("Gizmo", 15.5), ("Doohickey", 60.0))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def expense_rows(seed: int, rows: int = 24) -> list[dict[str, Any]]:
    """Expense claims: date, employee, department, category, amount (2 decimals)."""
    rng = random.Random(seed)
    people = [e for e in EMPLOYEES if e.user != "bot"]
    out = []
    for i in range(rows):
        emp = rng.choice(people)
        out.append(
            {
                "id": f"EXP-{seed:02d}{i + 1:03d}",
                "date": (date(2026, 10, 1) + timedelta(days=rng.randrange(31))).isoformat(),
                "employee": emp.name,
                "department": emp.department,
                "category": rng.choice(_CATEGORIES),
                "amount": round(rng.uniform(12, 900), 2),
            }
        )
    return out


def expenses_csv(seed: int, rows: int = 24) -> str:
    """The expense claims as CSV."""
    data = expense_rows(seed, rows)
    return _table(list(data[0]), [list(r.values()) for r in data])


def expense_totals(seed: int, rows: int = 24, by: str = "department") -> dict[str, float]:
    """Sum of amounts per value of column ``by``, rounded to cents."""
    totals: dict[str, float] = defaultdict(float)
    for r in expense_rows(seed, rows):
        totals[r[by]] += r["amount"]
    return {k: round(v, 2) for k, v in sorted(totals.items())}


def sales_rows(seed: int, rows: int = 40) -> list[dict[str, Any]]:
    """Sales lines: date, region, product, units, unit_price, revenue."""
    rng = random.Random(1000 + seed)
    out = []
    for i in range(rows):
        product, price = rng.choice(_PRODUCTS)
        units = rng.randint(1, 40)
        out.append(
            {
                "order": f"SO-{seed:02d}{i + 1:03d}",
                "date": (date(2026, 7, 1) + timedelta(days=rng.randrange(92))).isoformat(),
                "region": rng.choice(_REGIONS),
                "product": product,
                "units": units,
                "unit_price": price,
                "revenue": round(units * price, 2),
            }
        )
    return out


def sales_csv(seed: int, rows: int = 40) -> str:
    """The sales lines as CSV."""
    data = sales_rows(seed, rows)
    return _table(list(data[0]), [list(r.values()) for r in data])


def sales_totals(seed: int, rows: int = 40, by: str = "region") -> dict[str, float]:
    """Revenue per value of column ``by`` (``region``, ``product`` or ``month``)."""
    totals: dict[str, float] = defaultdict(float)
    for r in sales_rows(seed, rows):
        key = r["date"][:7] if by == "month" else r[by]
        totals[key] += r["revenue"]
    return {k: round(v, 2) for k, v in sorted(totals.items())}


def timesheet_rows(seed: int, weeks: int = 4) -> list[dict[str, Any]]:
    """Hours worked per engineer per ISO week."""
    rng = random.Random(2000 + seed)
    people = [e for e in EMPLOYEES if e.department == "Engineering"]
    out = []
    for w in range(weeks):
        for emp in people:
            out.append(
                {"week": f"2026-W{41 + w}", "employee": emp.name, "hours": rng.randint(32, 52)}
            )
    return out


def timesheet_csv(seed: int, weeks: int = 4) -> str:
    """The timesheet as CSV."""
    data = timesheet_rows(seed, weeks)
    return _table(list(data[0]), [list(r.values()) for r in data])


def overtime(seed: int, weeks: int = 4, limit: int = 45) -> dict[str, int]:
    """Per employee, the number of weeks above ``limit`` hours (only those with any)."""
    counts: dict[str, int] = defaultdict(int)
    for r in timesheet_rows(seed, weeks):
        if r["hours"] > limit:
            counts[r["employee"]] += 1
    return dict(sorted(counts.items()))


GENERATORS: dict[str, Callable[..., str]] = {
    "expenses_csv": expenses_csv,
    "sales_csv": sales_csv,
    "timesheet_csv": timesheet_csv,
}


def generate(name: str, **args: Any) -> str:
    """Run the generator ``name`` (a key of :data:`GENERATORS`)."""
    return GENERATORS[name](**args)
