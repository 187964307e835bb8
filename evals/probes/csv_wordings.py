"""Five CSV tasks that differ in file names, column names, data and wording (issue 16).

None is a wording the agent was tuned on (``sales.csv``/``amount``). Each comes with its
own data and the expected output, so a run is checked by code, not by a model.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CsvTask:
    """One wording: the task, the input file and its rows, the output file and its key."""

    name: str
    task: str
    input_name: str
    header: tuple[str, str]
    rows: tuple[tuple[str, int], ...]
    output_name: str
    out_header: tuple[str, str]

    def write_input(self, workspace: Path) -> None:
        """Create the input file in ``workspace``."""
        with (workspace / self.input_name).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.header)
            w.writerows(self.rows)

    def expected(self) -> dict[str, int]:
        """Group -> sum, the right answer."""
        out: dict[str, int] = defaultdict(int)
        for key, value in self.rows:
            out[key] += value
        return dict(out)

    def correct(self, workspace: Path) -> bool:
        """Whether the output file holds exactly the right sums (header names checked too)."""
        path = workspace / self.output_name
        if not path.is_file():
            return False
        rows = list(csv.reader(io.StringIO(path.read_text(errors="replace"))))
        if not rows or [c.strip().lower() for c in rows[0]] != list(self.out_header):
            return False
        got: dict[str, int] = {}
        for r in rows[1:]:
            if len(r) != 2:
                return False
            try:
                got[r[0].strip()] = int(float(r[1]))
            except ValueError:
                return False
        return got == self.expected()


TASKS = [
    CsvTask(
        "stores",
        "Sum the revenue per store in q3_revenue.csv and write the result to store_totals.csv "
        "with the columns store,revenue.",
        "q3_revenue.csv", ("store", "revenue"),
        (("Leeds", 120), ("York", 80), ("Leeds", 45), ("Hull", 60), ("York", 15)),
        "store_totals.csv", ("store", "revenue"),
    ),
    CsvTask(
        "clinics",
        "clinic_visits.csv lists patient visits per clinic. Produce visits_by_clinic.csv that "
        "has one line per clinic with the total of the patients column (columns: clinic,patients).",
        "clinic_visits.csv", ("clinic", "patients"),
        (("North", 4), ("South", 9), ("North", 11), ("East", 2), ("South", 1), ("East", 3)),
        "visits_by_clinic.csv", ("clinic", "patients"),
    ),
    CsvTask(
        "fuel",
        "From fleet_fuel.csv compute how many litres each vehicle used in total; save it as "
        "litres.csv, header vehicle,litres.",
        "fleet_fuel.csv", ("vehicle", "litres"),
        (("van-1", 30), ("car-7", 12), ("van-1", 5), ("truck-2", 80), ("car-7", 9)),
        "litres.csv", ("vehicle", "litres"),
    ),
    CsvTask(
        "books",
        "Total the copies sold per author in bookshop.csv into author_sales.csv "
        "(columns author,copies).",
        "bookshop.csv", ("author", "copies"),
        (("Le Guin", 3), ("Okorafor", 7), ("Le Guin", 2), ("Jemisin", 5), ("Okorafor", 1)),
        "author_sales.csv", ("author", "copies"),
    ),
    CsvTask(
        "hours",
        "Add up the hours each team logged in timesheet.csv and write team_hours.csv with "
        "columns team,hours.",
        "timesheet.csv", ("team", "hours"),
        (("infra", 6), ("web", 8), ("infra", 4), ("data", 7), ("web", 2), ("data", 1)),
        "team_hours.csv", ("team", "hours"),
    ),
]  # fmt: skip
