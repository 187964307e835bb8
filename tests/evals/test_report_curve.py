"""What the report shows of a curve: points with intervals, families, items used, paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from evals.bench import IterationRecord, ResultsStore, TaskResult
from evals.portable import REPO, portable, scrub
from evals.report import summarize
from evals.report_curve import curve_point, family_rows, items_used

RESULTS = REPO / "evals" / "results"


def _r(
    iteration: int,
    family: str,
    score: float,
    *,
    calls: int = 4,
    tokens: int = 1000,
    used: tuple[str, ...] = (),
    protocol: str = "continual",
    n: int = 0,
) -> TaskResult:
    return TaskResult(
        protocol=protocol,  # type: ignore[arg-type]
        phase="run",
        iteration=iteration,
        task=f"curve/{family}-{iteration}-{n}",
        suite="curve",
        name=f"{family}-{iteration}-{n}",
        category="finance",
        family=family,
        difficulty="micro",
        model="scripted",
        memory_mode="carry",
        score=score,
        full=score == 1.0,
        outcome="achieved",
        llm_calls=calls,
        input_tokens=tokens,
        items_used=list(used),
    )


def test_curve_point_interval_success_rate_and_cost_per_solved() -> None:
    rows = [
        _r(2, "a", 1.0, calls=3, tokens=900),
        _r(2, "a", 0.25, calls=9, tokens=5000),
        _r(2, "b", 1.0, calls=5, tokens=1100),
        _r(2, "b", 0.0, calls=7, tokens=4000),
    ]
    p = curve_point(2, rows)
    assert p.mean_score == pytest.approx(0.5625)
    assert p.ci_low < p.mean_score < p.ci_high
    assert (p.full_rate, p.solved, p.attempts) == (0.5, 2, 4)
    assert (p.calls_per_solved, p.tokens_per_solved) == (4.0, 1000.0)  # solved ones only
    none = curve_point(1, [_r(1, "a", 0.25)])
    assert none.calls_per_solved is None and none.full_rate == 0.0


def test_family_rows_compare_first_and_last_iteration() -> None:
    by_curve = {
        "continual": {
            1: [_r(1, "a", 0.25), _r(1, "b", 0.5)],
            2: [_r(2, "a", 0.5)],
            3: [_r(3, "a", 1.0), _r(3, "b", 1.0)],
        }
    }
    rows = {r.family: r for r in family_rows(by_curve)}
    a, b = rows["a"], rows["b"]
    assert (a.first_iteration, a.first_score, a.last_iteration, a.last_score) == (1, 0.25, 3, 1.0)
    assert (b.first_full, b.last_full, b.last_attempts) == (0, 1, 1)


def test_items_used_counts_solved_attempts_only() -> None:
    by_curve = {
        "continual": {
            1: [_r(1, "a", 0.25, used=("p-1",))],
            2: [_r(2, "a", 1.0, used=("p-1", "s-2", "p-1")), _r(2, "b", 1.0, used=("p-1",))],
        },
        "no-memory": {1: [_r(1, "a", 1.0, protocol="no-memory")]},
    }
    used = items_used(by_curve, {"p-1": "procedural: Sum per key"})
    assert list(used) == ["continual"]
    first, second = used["continual"]
    assert (first.item, first.solved_uses, first.iterations) == ("p-1", 2, [2])
    assert first.title == "procedural: Sum per key"
    assert (second.item, second.solved_uses) == ("s-2", 1)


def test_portable_paths_and_scrubbed_text(tmp_path: Path) -> None:
    assert portable(REPO / "evals" / "results" / "x") == "evals/results/x"
    assert portable(tmp_path / "run") == "run"
    assert portable(tmp_path / "run" / "memory" / "c", base=tmp_path / "run") == "memory/c"
    assert portable("relative/path") == "relative/path"
    text = f"python -m evals.learning_curve --out-root {tmp_path}/out --x {REPO}/evals/results"
    clean = scrub(text)
    assert str(tmp_path) not in clean and str(REPO) not in clean
    assert clean == "python -m evals.learning_curve --out-root out --x evals/results"
    assert scrub("see http://127.0.0.1:8000/x and a/b/c") == "see http://127.0.0.1:8000/x and a/b/c"


def _seed_folder(folder: Path, scores: list[float], procedural: int) -> None:
    store = ResultsStore(folder)
    for i, s in enumerate(scores):
        store.append(_r(1, "a", s, n=i).model_copy(update={"task": f"{folder.name}/{i}"}))
    store.append_iteration(
        IterationRecord(
            protocol="continual",
            phase="run",
            iteration=1,
            suite="curve",
            tasks=len(scores),
            mean_score=0.0,
            full=0,
            memory_levels={"procedural": procedural, "skill": 1},
            memory_active=procedural + 1,
        )
    )


def test_seed_folders_are_pooled_with_every_level(tmp_path: Path) -> None:
    _seed_folder(tmp_path / "seed-0", [0.0, 1.0], procedural=2)
    _seed_folder(tmp_path / "seed-1", [1.0, 1.0], procedural=4)
    report = summarize(tmp_path)
    (point,) = report.curves["continual"]
    assert point.attempts == 4 and point.mean_score == 0.75
    (mem,) = report.memory
    assert mem.levels == {"procedural": 3, "skill": 1}
    assert report.levels[:4] == ["strategic", "procedural", "tool", "episodic"]
    assert "skill" in report.levels  # a level the store reports is shown, whatever it is


def test_committed_learning_curve_reports_hold_no_machine_path() -> None:
    """Every committed curve's report.json, report.html and manifest.json name no folder of
    the machine they were written on (this checkout's, a home folder, a temporary folder)."""
    needles = {str(REPO), "/work/", "/tmp/", os.path.expanduser("~") + "/"}
    reports = sorted(RESULTS.glob("learning-curve*/report.json"))
    assert reports, "no committed learning curve"
    for report_json in reports:
        for name in ("report.json", "report.html", "manifest.json"):
            text = (report_json.parent / name).read_text(encoding="utf-8")
            found = [n for n in needles if n in text]
            assert not found, (report_json.parent.name, name, found)
        folder = json.loads(report_json.read_text())["folder"]
        assert folder.startswith("evals/results/learning-curve"), folder
