"""The demo's task family: total one column of a table per value of another.

Each instance comes from a seed: its own table (file name, columns, people or places,
amounts), its own output file and its own wording. Two instances of the family share only
*how* the task is done, so what the second run can reuse from the first is a way of
working (a skill, a tip), never an answer. Every instance is checked by code.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Topic:
    """One kind of table: its file, the column to group by and the column to total."""

    file: str
    label: str
    value: str
    labels: tuple[str, ...]
    extra: tuple[str, ...]  # other columns, filled with plausible noise
    low: int
    high: int


TOPICS = (
    Topic("parcels.csv", "courier", "weight_kg", ("Ada", "Bo", "Cy", "Dee"), ("id", "day"), 1, 30),
    Topic("donations.csv", "donor", "pledged", ("Kim", "Lee", "Max", "Noa"), ("date",), 5, 200),
    Topic("timesheet.csv", "employee", "hours", ("Ines", "Tom", "Raul", "Sofia"), ("week", "project"), 1, 9),
    Topic("meter_readings.csv", "building", "kwh", ("B1", "B2", "B3"), ("meter", "month"), 10, 400),
    Topic("trips.csv", "driver", "km", ("Amir", "Bea", "Chen", "Dana"), ("trip_id",), 3, 250),
    Topic("orders.csv", "customer", "quantity", ("Acme", "Globex", "Initech"), ("order_id", "sku"), 1, 50),
    Topic("expenses.csv", "department", "amount", ("Sales", "Legal", "IT", "Ops"), ("claim", "date"), 20, 900),
    Topic("harvest.csv", "field", "tonnes", ("north", "south", "east"), ("crop", "week"), 2, 40),
)  # fmt: skip

WORDINGS = (
    "Total the {value} per {label} in {file} and write {out} with the columns {label},{value}.",
    "Using {file}, add up {value} for each {label} and save the totals as {out} "
    "(header {label},{value}).",
    "Write {out}: for every {label} in {file}, the sum of {value}. Columns: {label},{value}.",
    "How much {value} does each {label} have in {file}? Put one row per {label} with the sum "
    "into {out} (columns {label},{value}).",
    "Sum {value} by {label} from {file}; the result goes to {out} with the header {label},{value}.",
)
_EXTRA = {
    "id": lambda r, i: str(1000 + i),
    "day": lambda r, i: f"2026-11-{r.randint(1, 28):02d}",
    "date": lambda r, i: f"2026-10-{r.randint(1, 28):02d}",
    "week": lambda r, i: str(r.randint(1, 52)),
    "project": lambda r, i: r.choice(["apollo", "zephyr", "atlas"]),
    "meter": lambda r, i: f"M{r.randint(10, 99)}",
    "month": lambda r, i: r.choice(["jan", "feb", "mar"]),
    "trip_id": lambda r, i: f"T{500 + i}",
    "order_id": lambda r, i: f"O-{r.randint(100, 999)}",
    "sku": lambda r, i: r.choice(["A-1", "B-7", "C-3"]),
    "claim": lambda r, i: f"C{i + 1:03d}",
    "crop": lambda r, i: r.choice(["wheat", "barley", "oats"]),
}


@dataclass(frozen=True)
class DemoTask:
    """One instance: the task text, the input table, and what the output must hold."""

    text: str
    file: str
    table: str
    out: str
    label: str
    value: str
    totals: dict[str, int]

    def write_input(self, workspace: Path) -> None:
        """Put the instance's table into a workspace."""
        workspace.mkdir(parents=True, exist_ok=True)
        (workspace / self.file).write_text(self.table, encoding="utf-8")

    def check(self, workspace: Path) -> bool:
        """Whether the output holds the header and one right total per group (any order)."""
        path = workspace / self.out
        if not path.is_file():
            return False
        try:
            rows = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) if r]
            header = [c.strip().lower() for c in rows[0]]
            got = {r[0].strip(): float(r[1]) for r in rows[1:]}
        except (IndexError, ValueError, UnicodeDecodeError):
            return False
        want = {k: float(v) for k, v in self.totals.items()}
        return header == [self.label, self.value] and got == want


def _instance(rng: random.Random, topic: Topic, wording: str) -> DemoTask:
    columns = [*topic.extra[:1], topic.label, *topic.extra[1:], topic.value]
    rows, totals = [], dict.fromkeys(topic.labels, 0)
    for i in range(rng.randint(8, 14)):
        label = (
            topic.labels[i % len(topic.labels)]
            if i < len(topic.labels)
            else rng.choice(topic.labels)
        )
        value = rng.randint(topic.low, topic.high)
        totals[label] += value
        cells = {topic.label: label, topic.value: str(value)}
        cells |= {c: _EXTRA[c](rng, i) for c in topic.extra}
        rows.append([cells[c] for c in columns])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    out = rng.choice(
        [f"{topic.label}_totals.csv", f"{topic.value}_by_{topic.label}.csv", "totals.csv"]
    )
    text = wording.format(file=topic.file, label=topic.label, value=topic.value, out=out)
    return DemoTask(text, topic.file, buf.getvalue(), out, topic.label, topic.value, totals)


def pair(seed: int) -> tuple[DemoTask, DemoTask]:
    """Two instances of the family for one seed: other tables, other wordings."""
    rng = random.Random(seed)
    first, second = rng.sample(TOPICS, 2)
    w1, w2 = rng.sample(WORDINGS, 2)
    return _instance(rng, first, w1), _instance(rng, second, w2)
