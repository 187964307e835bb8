"""`bench report`: the JSON summary, and the static page opened in a real Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals.bench import IterationRecord, Manifest, ProtocolRun, ResultsStore, TaskResult
from evals.grading import Checkpoint
from evals.report import summarize, write_report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TASKS = [
    ("acme/triage-a", "engineering", ["trac"]),
    ("acme/triage-b", "engineering", ["trac", "mail"]),
    ("acme/expenses-a", "finance", ["files"]),
]


def _result(
    protocol: str,
    iteration: int,
    task: str,
    category: str,
    apps: list[str],
    score: float,
    phase: str = "run",
) -> TaskResult:
    passed = round(score * 4)
    return TaskResult(
        protocol=protocol,  # type: ignore[arg-type]
        phase=phase,  # type: ignore[arg-type]
        iteration=iteration,
        task=task,
        suite="acme",
        name=task.split("/")[1],
        category=category,
        family=task.split("/")[1].split("-")[0],
        difficulty="short",
        apps=apps,
        model="local",
        memory_mode="off" if protocol == "no-memory" else "carry",
        score=score,
        full=score == 1.0,
        passed_points=passed,
        total_points=4,
        checkpoints=[Checkpoint(name=f"c{i}", passed=i < passed) for i in range(4)],
        outcome="achieved" if score == 1.0 else "failed",
        steps=5 + iteration,
        input_tokens=1000 * iteration,
        output_tokens=100,
        cost_usd=0.001 * iteration,
        wall_s=12.5,
    )


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    store = ResultsStore(out)
    store.save_manifest(
        Manifest(
            runs={
                p: ProtocolRun(
                    protocol=p,  # type: ignore[arg-type]
                    suite="acme",
                    tasks=[t for t, _, _ in TASKS],
                    iterations=n,
                    model="local",
                    model_sha256="ab" * 32,
                    command=f"journeyman bench run acme --protocol {p}",
                )
                for p, n in (("continual", 3), ("no-memory", 1))
            }
        )
    )
    for it in (1, 2, 3):
        for (task, cat, apps), base in zip(TASKS, (0.25, 0.5, 0.0), strict=True):
            store.append(
                _result("continual", it, task, cat, apps, min(1.0, base + 0.25 * (it - 1)))
            )
        store.append_iteration(
            IterationRecord(
                protocol="continual",
                phase="run",
                iteration=it,
                suite="acme",
                tasks=3,
                mean_score=0.5,
                full=it - 1,
                memory_levels={
                    "procedural": 2 * it,
                    "strategic": it,
                    "tool": 1,
                    "episodic": 3 * it,
                },
                memory_active=6 * it + 1,
            )
        )
    for (task, cat, apps), base in zip(TASKS, (0.25, 0.5, 0.0), strict=True):
        store.append(_result("no-memory", 1, task, cat, apps, base))
    store.append(
        _result("transfer", 1, "acme-transfer/triage-c", "engineering", ["trac"], 0.5, "eval")
    )
    store.append(
        _result("no-memory", 1, "acme-transfer/triage-c", "engineering", ["trac"], 0.25, "eval")
    )
    (out / "NOTES.md").write_text("What the curve shows: <measured>.\n")
    return out


def test_summary_aggregates_per_iteration_category_and_app(tmp_path: Path) -> None:
    report = summarize(_folder(tmp_path))
    assert report.columns == [
        "continual i1",
        "continual i2",
        "continual i3",
        "no-memory i1",
        "transfer/eval i1",
        "no-memory/eval i1",
    ]
    assert report.curves["transfer/eval"][0].mean_score == 0.5
    assert [p.mean_score for p in report.curves["continual"]] == [0.25, 0.5, 0.75]
    assert [p.mean_score for p in report.curves["no-memory"]] == [0.25]
    assert report.by_category["engineering"]["continual i3"] == 0.875  # 0.75 and 1.0
    assert report.by_app["mail"]["no-memory i1"] == 0.5
    assert [m.levels["procedural"] for m in report.memory] == [2, 4, 6]
    assert "measured" in report.notes
    with pytest.raises(FileNotFoundError):
        summarize(tmp_path / "nothing")


def test_report_page_renders_tables_and_plots_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    json_path, html_path = write_report(_folder(tmp_path))
    page_text = html_path.read_text()
    assert (
        json_path.exists()
        and "<script" not in page_text
        and "http" not in page_text.lower().replace("http://www.w3.org", "")
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(html_path.as_uri())
            tables = page.locator("table")
            assert tables.count() >= 6
            for i in range(tables.count()):
                assert tables.nth(i).locator("tbody tr").count() > 0
                box = tables.nth(i).bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0
            task_rows = page.locator("table.tasks tbody tr")
            assert task_rows.count() == 4
            assert "1.00" in page.locator("table.tasks").inner_text()
            plots = page.locator("figure svg")
            assert plots.count() == 4  # curve, transfer, memory, tokens
            for i in range(plots.count()):
                box = plots.nth(i).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100
            # the curve is drawn: lines of the continual run and the no-memory baseline
            assert page.locator("figure").first.locator("path").count() > 5
            page.screenshot(path=str(ARTIFACTS / "bench-report.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "bench-report.png").stat().st_size > 10_000
