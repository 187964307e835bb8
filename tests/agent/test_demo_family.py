"""The demo's task family: instances from seeds, checked by code."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from agent.demo.family import pair


def _oracle(task, ws: Path) -> None:
    totals: dict[str, int] = {}
    for r in csv.DictReader(io.StringIO(task.table)):
        totals[r[task.label]] = totals.get(r[task.label], 0) + int(r[task.value])
    lines = [f"{task.label},{task.value}", *(f"{k},{v}" for k, v in sorted(totals.items()))]
    (ws / task.out).write_text("\n".join(lines) + "\n")


def test_a_seed_gives_the_same_pair_and_seeds_differ() -> None:
    assert pair(5) == pair(5)
    texts = {t.text for s in range(1, 9) for t in pair(s)}
    files = {t.file for s in range(1, 9) for t in pair(s)}
    assert len(texts) >= 12 and len(files) >= 5
    for s in range(1, 9):
        a, b = pair(s)
        assert a.file != b.file and a.text != b.text


@pytest.mark.parametrize("seed", range(1, 7))
def test_the_oracle_passes_and_wrong_outputs_fail(tmp_path: Path, seed: int) -> None:
    for i, task in enumerate(pair(seed)):
        ws = tmp_path / str(i)
        task.write_input(ws)
        assert not task.check(ws)  # nothing written yet
        _oracle(task, ws)
        assert task.check(ws)
        rows = (ws / task.out).read_text().splitlines()
        (ws / task.out).write_text("\n".join(rows[:-1]) + "\n")  # a group missing
        assert not task.check(ws)
        (ws / task.out).write_text("\n".join(["label,total", *rows[1:]]) + "\n")  # header
        assert not task.check(ws)
