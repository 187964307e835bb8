"""The CSV wordings of the issue-16 probe: their oracles accept the right output only."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "evals" / "probes"))
from csv_wordings import TASKS, CsvTask


@pytest.mark.parametrize("t", TASKS, ids=[t.name for t in TASKS])
def test_oracle(tmp_path: Path, t: CsvTask) -> None:
    t.write_input(tmp_path)
    assert t.input_name in t.task and t.output_name in t.task
    assert not t.correct(tmp_path)  # nothing written yet
    sums = t.expected()
    with (tmp_path / t.output_name).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(t.out_header)
        w.writerows(sorted(sums.items()))
    assert t.correct(tmp_path)
    key = next(iter(sums))
    wrong = {**sums, key: sums[key] + 1}
    with (tmp_path / t.output_name).open("w", newline="") as f:
        csv.writer(f).writerows([t.out_header, *wrong.items()])
    assert not t.correct(tmp_path)


def test_wordings_differ_from_the_tuned_one() -> None:
    names = {t.input_name for t in TASKS} | {c for t in TASKS for c in t.header}
    assert not names & {"sales.csv", "amount", "region"}
    assert len({t.input_name for t in TASKS}) == len({t.header for t in TASKS}) == 5
