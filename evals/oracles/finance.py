"""Oracle solutions of the ``expenses`` and ``sales-report`` families.

The oracle reads the CSV through a tool call and does the arithmetic itself, as the
agent's model would (or as it would with a Python tool).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from evals.oracles.actions import Actions


async def _rows(act: Actions) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(await act.files_get(act.params["source"]))))


def _sum(rows: list[dict[str, str]], key: str, value: str) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        k = r["date"][:7] if key == "month" else r[key]
        totals[k] += float(r[value])
    return {k: round(v, 2) for k, v in sorted(totals.items())}


def _csv(key: str, value: str, totals: dict[str, float]) -> str:
    return f"{key},{value}\n" + "".join(f"{k},{v:.2f}\n" for k, v in totals.items())


async def solve_expense_totals(act: Actions) -> None:
    by = act.params["by"]
    await act.write(act.params["output"], _csv(by, "total", _sum(await _rows(act), by, "amount")))


async def solve_sales_totals(act: Actions) -> None:
    by = act.params["by"]
    await act.write(
        act.params["output"], _csv(by, "revenue", _sum(await _rows(act), by, "revenue"))
    )


async def solve_largest_claim(act: Actions) -> None:
    top = max(await _rows(act), key=lambda r: float(r["amount"]))
    await act.write(act.params["output"], f"{top['id']} {float(top['amount']):.2f}\n")


async def solve_top_product(act: Actions) -> None:
    totals = _sum(await _rows(act), "product", "revenue")
    best = max(totals, key=lambda k: totals[k])
    await act.write(act.params["output"], f"{best} {totals[best]:.2f}\n")


async def solve_over_limit(act: Actions) -> None:
    limit = act.params["limit"]
    over = [r for r in await _rows(act) if float(r["amount"]) > limit]
    for r in over:
        await act.trac_new_ticket(
            summary=f"Review expense {r['id']}",
            component="finance",
            owner="rachel",
            type="task",
            description=f"{r['employee']} claimed {r['amount']} for {r['category']} on {r['date']}.",
        )
    total = sum(float(r["amount"]) for r in over)
    await act.mail_send(
        ["rachel@acme.test"],
        "Expense claims over the limit",
        f"{len(over)} claims are over {limit}; together {total:.2f}. Tickets are in Trac.",
    )


async def solve_monthly_report(act: Actions) -> None:
    p = act.params
    totals = _sum(await _rows(act), "month", "revenue")
    await act.files_put(p["file"], _csv("month", "revenue", totals))
    table = "||Month||Revenue||\n" + "".join(f"||{k}||{v:.2f}||\n" for k, v in totals.items())
    await act.trac_wiki(p["page"], f"= Q3 sales by month =\n\n{table}")
    best = max(totals, key=lambda k: totals[k])
    await act.mail_send(
        [f"{p['notify']}@acme.test"],
        "Q3 sales by month",
        f"The best month was {best} ({totals[best]:.2f}).",
    )


async def solve_category_report(act: Actions) -> None:
    p = act.params
    totals = _sum(await _rows(act), "category", "amount")
    await act.files_put(p["file"], _csv("category", "total", totals))
    table = "||Category||Total||\n" + "".join(f"||{k}||{v:.2f}||\n" for k, v in totals.items())
    await act.trac_wiki(p["page"], f"= Expenses by category =\n\n{table}")
    top = max(totals, key=lambda k: totals[k])
    await act.mail_send(
        ["rachel@acme.test"], "Expenses by category", f"The largest category is {top}."
    )


async def solve_sales_upload(act: Actions) -> None:
    p = act.params
    totals = _sum(await _rows(act), p["by"], "revenue")
    await act.files_put(p["file"], _csv(p["by"], "revenue", totals))
    best = max(totals, key=lambda k: totals[k])
    await act.mail_send(
        [f"{p['notify']}@acme.test"],
        f"Q3 revenue by {p['by']}",
        f"The table is on the share at {p['file']}. Best {p['by']}: {best} ({totals[best]:.2f}).",
    )
