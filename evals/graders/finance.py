"""Families ``expenses`` (finance) and ``sales-report`` (data analysis): tables from CSVs."""

from __future__ import annotations

from evals.acme import datagen
from evals.graders._common import close, mails_to, read_csv, text_of
from evals.grading import GradeContext


def _totals_file(
    ctx: GradeContext, path: str, key: str, value: str, expected: dict[str, float]
) -> None:
    rows = read_csv(ctx.workspace_text(path))
    ctx.check(
        f"{path} written with columns {key},{value}",
        bool(rows) and key in rows[0] and value in rows[0],
    )
    got = {r.get(key, ""): r.get(value) for r in rows}
    ctx.check(f"every {key} present", bool(rows) and set(got) == set(expected))
    ctx.check(
        f"every {value} correct to the cent",
        bool(rows) and all(close(got.get(k), v) for k, v in expected.items()),
        points=2,
    )


def grade_expense_totals(ctx: GradeContext) -> None:
    """Workspace CSV of totals per department (or category)."""
    p = ctx.params
    expected = datagen.expense_totals(p["seed"], p["rows"], by=p["by"])
    _totals_file(ctx, p["output"], p["by"], "total", expected)


def grade_sales_totals(ctx: GradeContext) -> None:
    """Workspace CSV of revenue per region (or product)."""
    p = ctx.params
    expected = datagen.sales_totals(p["seed"], p["rows"], by=p["by"])
    _totals_file(ctx, p["output"], p["by"], "revenue", expected)


def grade_largest_claim(ctx: GradeContext) -> None:
    """answer.txt names the largest claim and its amount."""
    p = ctx.params
    rows = datagen.expense_rows(p["seed"], p["rows"])
    top = max(rows, key=lambda r: r["amount"])
    text = ctx.workspace_text(p["output"]) or ""
    ctx.check("answer names the claim id", top["id"] in text)
    ctx.check("answer gives the amount", f"{top['amount']:.2f}" in text)


def grade_top_product(ctx: GradeContext) -> None:
    """answer.txt names the best product and its revenue."""
    p = ctx.params
    totals = datagen.sales_totals(p["seed"], p["rows"], by="product")
    best = max(totals, key=lambda k: totals[k])
    text = ctx.workspace_text(p["output"]) or ""
    ctx.check("answer names the product", best in text)
    ctx.check("answer gives its revenue", f"{totals[best]:.2f}" in text)


def grade_over_limit(ctx: GradeContext) -> None:
    """One finance ticket per claim over the limit; rachel mailed the count and total."""
    p = ctx.params
    over = [r for r in datagen.expense_rows(p["seed"], p["rows"]) if r["amount"] > p["limit"]]
    tickets = ctx.trac.tickets()
    found = [t for r in over for t in tickets if r["id"] in t.summary]
    ctx.check(
        "a ticket per claim over the limit", len({t.id for t in found}) == len(over), points=2
    )
    ctx.check(
        "tickets in component finance, owned by rachel",
        bool(found) and all(t.component == "finance" and t.owner == "rachel" for t in found),
    )
    others = [t for t in tickets if t.id > p["existing_tickets"] and t not in found]
    ctx.check("no other new tickets", bool(found) and not others)
    total = round(sum(r["amount"] for r in over), 2)
    mails = mails_to(ctx.mail.inbox("rachel"), "rachel")
    ctx.check(
        "rachel mailed the count and the total",
        any(str(len(over)) in text_of(m) and f"{total:.2f}" in text_of(m) for m in mails),
        points=2,
    )


def grade_monthly_report(ctx: GradeContext) -> None:
    """Share CSV + wiki page of revenue per month; the best month mailed."""
    p = ctx.params
    expected = datagen.sales_totals(p["seed"], p["rows"], by="month")
    rows = read_csv(ctx.files.read(p["file"]))
    got = {r.get("month", ""): r.get("revenue") for r in rows}
    ctx.check(f"{p['file']} on the share", bool(rows))
    ctx.check(
        "share CSV: every month's revenue correct",
        bool(rows)
        and set(got) == set(expected)
        and all(close(got[k], v) for k, v in expected.items()),
        points=2,
    )
    page = ctx.trac.wiki(p["page"]) or ""
    ctx.check(f"wiki page {p['page']} exists", bool(page))
    ctx.check(
        "wiki page gives every month's revenue",
        bool(page) and all(k in page and f"{v:.2f}" in page for k, v in expected.items()),
    )
    best = max(expected, key=lambda k: expected[k])
    mails = mails_to(ctx.mail.inbox(p["notify"]), p["notify"])
    ctx.check(f"{p['notify']} mailed the best month", any(best in text_of(m) for m in mails))


def grade_category_report(ctx: GradeContext) -> None:
    """Share CSV of totals per category; rachel mailed the largest category."""
    p = ctx.params
    expected = datagen.expense_totals(p["seed"], p["rows"], by="category")
    rows = read_csv(ctx.files.read(p["file"]))
    got = {r.get("category", ""): r.get("total") for r in rows}
    ctx.check(f"{p['file']} on the share", bool(rows))
    ctx.check(
        "every category total correct",
        bool(rows)
        and set(got) == set(expected)
        and all(close(got[k], v) for k, v in expected.items()),
        points=2,
    )
    page = ctx.trac.wiki(p["page"]) or ""
    ctx.check(
        f"wiki page {p['page']} gives every category total",
        bool(page) and all(k in page and f"{v:.2f}" in page for k, v in expected.items()),
    )
    top = max(expected, key=lambda k: expected[k])
    mails = mails_to(ctx.mail.inbox("rachel"), "rachel")
    ctx.check("rachel mailed the largest category", any(top in text_of(m) for m in mails))


def grade_sales_upload(ctx: GradeContext) -> None:
    """Share CSV of revenue per key; a colleague mailed the best key."""
    p = ctx.params
    expected = datagen.sales_totals(p["seed"], p["rows"], by=p["by"])
    rows = read_csv(ctx.files.read(p["file"]))
    got = {r.get(p["by"], ""): r.get("revenue") for r in rows}
    ctx.check(f"{p['file']} on the share with columns {p['by']},revenue", bool(rows) and bool(got))
    ctx.check(
        f"every {p['by']}'s revenue correct to the cent",
        bool(rows)
        and set(got) == set(expected)
        and all(close(got[k], v) for k, v in expected.items()),
        points=2,
    )
    best = max(expected, key=lambda k: expected[k])
    mails = mails_to(ctx.mail.inbox(p["notify"]), p["notify"])
    ctx.check(f"{p['notify']} mailed the best {p['by']}", any(best in text_of(m) for m in mails))
