"""Totals checked by code: a table of sums per group, recomputed from its input.

"Total the hours per employee in timesheet.csv and write hours_by_employee.csv with the
columns employee,hours" states everything needed to check the answer: the input (the one
named table that has both columns), the output (the other named table), the group column
and the summed column (the stated header). The check recomputes the sums with the csv
module and compares them with the written table, so a verdict on such a task need not be
a model's opinion:

- a verdict of success on a table with wrong totals is overruled (``wrong_totals``);
- a verdict of failure on an attempt that wrote the right totals is overruled too: the
  small reflector often fails a right table by repeating the previous attempt's analysis,
  and the retry then overwrites a right file with a wrong one.

The group may be a period of a date column the input has ("per month (YYYY-MM, from
`date`)"): month, year or day, the key cut from ISO dates, when the task states that format
or the written table uses it.

Nothing is checked when the task asks for anything else: another aggregate (average,
count, share ...), several outputs or inputs, more than two columns, values that are not
numbers, or a table whose header is not the stated one (``header_mismatch`` speaks then).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.evidence import AGGREGATE, FILE, PER_GROUP, TABLES, stated_header

OTHER_AGGREGATE = re.compile(
    r"(?i)\b(?:average|mean|median|count|max(?:imum|ima|imal)?|min(?:imum|ima|imal)?|highest|lowest|"
    r"percent\w*|share\s+of|market\s+share|\w+'s\s+share|ratio|rate|cumulative|running)\b"
)  # "share" as a part of a whole, not a file share ("on the file share")
MAX_BYTES = 2_000_000
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]|$)")
# a group cut from an ISO date: its length, the format that states it, and a key's shape
PERIODS = {
    "month": (7, re.compile(r"\bYYYY-MM\b(?!-)"), re.compile(r"^\d{4}-\d{2}$")),
    "year": (4, re.compile(r"\bYYYY\b(?!-)"), re.compile(r"^\d{4}$")),
    "day": (10, re.compile(r"\bYYYY-MM-DD\b"), re.compile(r"^\d{4}-\d{2}-\d{2}$")),
}


@dataclass(frozen=True)
class TotalsCheck:
    """What the check found: the output, the input, and whether the totals are right."""

    output: str
    source: str
    right: bool
    detail: str


def _read(path: Path) -> list[dict[str, str]] | None:
    """The rows of a table (header keys lowered and stripped); None if unreadable."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return None
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        return None
    header = [c.strip().strip('"').lower() for c in rows[0]]
    return [dict(zip(header, (c.strip() for c in r), strict=False)) for r in rows[1:]]


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "")) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def check_totals(task: str, workspace: Path | None, written: set[str]) -> TotalsCheck | None:
    """The check of a sum-per-group task, or None when ``task`` is not one (or its input
    cannot be read as numbers). ``written``: the files the run wrote; the output is the one
    named table among them, the input the one named table, not written, with both columns."""
    if workspace is None or not (AGGREGATE.search(task) and PER_GROUP.search(task)):
        return None
    if OTHER_AGGREGATE.search(task):
        return None
    header = stated_header(task)
    if header is None or len(header) != 2:
        return None
    group, value = (h.lower() for h in header)
    names = [
        n
        for n in dict.fromkeys(m.group(1) for m in FILE.finditer(task))
        if n.lower().endswith(TABLES)
    ]
    outputs = [n for n in names if n in written]
    found = [
        (n, rows, keyer, column)
        for n in names
        if n not in written
        and (rows := _read(workspace / n))
        and (column := _summed(task, group, value, rows)) is not None
        and (keyer := _group_key(task, group, column, rows)) is not None
    ]
    if len(found) != 1 or len(outputs) != 1:
        return None
    [(source, rows, key_of, column)] = found
    output = outputs[0]
    want: dict[str, float] = {}
    for row in rows:
        key, amount = key_of(row), _number(row.get(column, ""))
        if not key:
            continue
        if amount is None:
            return None  # not numbers: the check does not apply
        want[key] = want.get(key, 0.0) + amount
    if not want:
        return None
    table = _read(workspace / output)
    if table is None:
        return TotalsCheck(output, source, False, f"{output} is missing or empty")
    if not table or set(table[0]) != {group, value}:
        return None  # another header: header_mismatch says so
    if group not in rows[0] and not _stated(task, group):
        shape = PERIODS[group][2]
        if not all(shape.match(row.get(group, "")) for row in table):
            return None  # keys in a format the task did not state: not judged
    got: dict[str, float] = {}
    for row in table:
        amount = _number(row.get(value, ""))
        if amount is None:
            return TotalsCheck(output, source, False, f"{output} has {row.get(value)!r} as a total")
        got[row.get(group, "")] = got.get(row.get(group, ""), 0.0) + amount
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    wrong = [k for k in want if k in got and not math.isclose(got[k], want[k], abs_tol=1e-6)]
    if missing or extra or wrong or len(table) != len(want):
        if wrong:
            k = wrong[0]
            detail = (
                f"the {value} of {k!r} is {_fmt(got[k])}, but the {column} column of {source} sums "
                f"to {_fmt(want[k])}"
            )
        elif missing:
            detail = f"{output} has no row for {missing[0]!r}, which {source} has"
        elif extra:
            detail = f"{output} has a row for {extra[0]!r}, which {source} does not have"
        else:
            detail = f"{output} has {len(table)} rows for {len(want)} groups"
        return TotalsCheck(output, source, False, detail)
    return TotalsCheck(
        output,
        source,
        True,
        f"{output} holds the sum of {column} for each of the {len(want)} {group} values of "
        f"{source}, recomputed by code",
    )


def _stated(task: str, period: str) -> bool:
    return bool(PERIODS[period][1].search(task))


def _mentioned(task: str, column: str) -> bool:
    return bool(re.search(rf"(?i)(?<![\w-]){re.escape(column)}(?![\w-])", task))


def _summed(task: str, group: str, value: str, rows: list[dict[str, str]]) -> str | None:
    """The input column summed: the stated header's value column, or else the one column of
    numbers the task names (in backticks first) beside the group ("Sum the `amount` ...,
    header `category,total`")."""
    if value in rows[0]:
        return value
    numeric = [
        c
        for c in rows[0]
        if c != group
        and any(r.get(c, "").strip() for r in rows)
        and all(_number(r.get(c, "").strip()) is not None for r in rows if r.get(c, "").strip())
    ]
    for said in (lambda c: f"`{c.lower()}`" in task.lower(), lambda c: _mentioned(task, c)):
        named = [c for c in numeric if said(c)]
        if named:
            return named[0] if len(named) == 1 else None
    return None


def _group_key(
    task: str, group: str, value: str, rows: list[dict[str, str]]
) -> Callable[[dict[str, str]], str] | None:
    """How a row of the input gives its group: the group column itself, or a period (month,
    year, day) cut from the one ISO date column the task names (or the only one there is).
    None when the input gives no such group."""
    if group in rows[0]:
        return lambda row: row.get(group, "")
    if group not in PERIODS:
        return None
    dates = [
        c
        for c in rows[0]
        if c != value
        and all(ISO_DATE.match(r.get(c, "")) for r in rows if r.get(c, "").strip())
        and any(r.get(c, "").strip() for r in rows)
    ]
    named = [c for c in dates if _mentioned(task, c)]
    column = named[0] if len(named) == 1 else dates[0] if len(dates) == 1 else None
    if column is None:
        return None
    size = PERIODS[group][0]
    return lambda row: row.get(column, "").strip()[:size]
