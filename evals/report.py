"""Reports of benchmark runs: a JSON summary and one static HTML page, viewable offline.

    paths = write_report("evals/results/run-1")   # -> [report.json, report.html]

The page holds tables per protocol, category, app and task, the learning curve per
iteration (mean partial score with a bootstrap interval over instances, full-success rate,
calls and tokens per solved task) beside the no-memory baseline, the first and last
iteration per family, memory growth per level, the items solved tasks used, and tokens
and cost per task. Plots are inline SVG drawn with matplotlib (no scripts, no network).
Paths are written relative to the repository (see :func:`evals.report_curve.portable`). A
folder holding ``seed-*`` run folders (``learning_curve --seeds N``) is reported pooled.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from string import Template

from pydantic import BaseModel, Field

from evals import report_plots as plots
from evals.bench.records import IterationRecord, Manifest, TaskResult
from evals.bench.store import ResultsStore
from evals.portable import portable, scrub
from evals.report_curve import (
    CurvePoint,
    FamilyRow,
    ItemUse,
    curve_point,
    family_rows,
    items_used,
)

TEMPLATE = Path(__file__).parent / "templates" / "report.html"
NOTES = ("MEASURED.md", "NOTES.md")
"""Text files of a results folder shown at the end of the page (facts, then a closing note)."""


class Group(BaseModel):
    """Aggregates over a set of results."""

    label: str
    protocol: str
    phase: str
    iteration: int | None = None
    suite: str = ""
    attempts: int = 0
    mean_score: float = 0.0
    full: int = 0
    steps: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    errors: int = 0


class MemoryPoint(BaseModel):
    """Active memory items per level after one iteration."""

    protocol: str
    phase: str
    iteration: int
    levels: dict[str, int]
    active: int


class TaskRow(BaseModel):
    """One task under one column (protocol, phase, iteration)."""

    task: str
    column: str
    score: float
    full: bool
    steps: int
    tokens: int
    cost_usd: float
    wall_s: float
    outcome: str


class Report(BaseModel):
    """``report.json``."""

    folder: str
    generated_at: float
    manifest: Manifest
    columns: list[str] = Field(description="Column labels, in run order.")
    groups: list[Group]
    curves: dict[str, list[CurvePoint]] = Field(description="Label -> points, per iteration.")
    by_category: dict[str, dict[str, float]]
    by_app: dict[str, dict[str, float]]
    memory: list[MemoryPoint]
    levels: list[str] = Field(default_factory=list, description="Memory levels, in order.")
    families: list[FamilyRow] = Field(default_factory=list)
    items_used: dict[str, list[ItemUse]] = Field(
        default_factory=dict, description="Curve -> items in the prompts of solved attempts."
    )
    tasks: list[TaskRow]
    notes: str = ""


def column(r: TaskResult) -> str:
    """The column a result belongs to: protocol, phase unless plain, iteration."""
    phase = "" if r.phase == "run" else f"/{r.phase}"
    return f"{r.protocol}{phase} i{r.iteration}"


def curve_label(r: TaskResult | IterationRecord) -> str:
    """The curve a result belongs to (one per protocol and phase)."""
    return r.protocol if r.phase == "run" else f"{r.protocol}/{r.phase}"


def _mean(xs: Iterable[float]) -> float:
    xs = list(xs)
    return round(sum(xs) / len(xs), 4) if xs else 0.0


def _group(label: str, rows: list[TaskResult], iteration: int | None) -> Group:
    first = rows[0]
    return Group(
        label=label,
        protocol=first.protocol,
        phase=first.phase,
        iteration=iteration,
        suite=first.suite,
        attempts=len(rows),
        mean_score=_mean(r.score for r in rows),
        full=sum(r.full for r in rows),
        steps=_mean(r.steps for r in rows),
        tokens=sum(r.tokens for r in rows),
        cost_usd=round(sum(r.cost_usd for r in rows), 6),
        wall_s=round(sum(r.wall_s for r in rows), 1),
        errors=sum(1 for r in rows if r.error),
    )


def _stores(folder: Path) -> list[ResultsStore]:
    """The folder's results, or those of its ``seed-*`` folders (pooled)."""
    store = ResultsStore(folder)
    if store.exists():
        return [store]
    seeds = [ResultsStore(p) for p in sorted(folder.glob("seed-*")) if p.is_dir()]
    seeds = [s for s in seeds if s.exists()]
    if not seeds:
        raise FileNotFoundError(f"no benchmark results in {folder} (no results.jsonl)")
    return seeds


def _titles(stores: list[ResultsStore], ids: set[str]) -> dict[str, str]:
    """``level: title`` of memory items, from the run folders' stores where they are kept."""
    from memory import MemoryStore

    titles: dict[str, str] = {}
    for store in stores:
        for path in sorted((store.folder / "memory").glob("*")):
            if not ids - set(titles) or not MemoryStore.exists(path):
                continue
            try:
                with MemoryStore.open(path, readonly=True) as mem:
                    for item in mem.get_many(sorted(ids - set(titles))):
                        title = (item.title.strip().splitlines() or [""])[0].lstrip("# ")
                        titles[item.id] = f"{item.level}: {title[:100]}"
            except Exception:  # a report must not fail on a damaged or missing store
                continue
    return titles


def _memory(stores: list[ResultsStore]) -> list[MemoryPoint]:
    """Active items per level after each iteration (the mean over repeats, when pooled)."""
    groups: dict[tuple[str, str, int], list[IterationRecord]] = defaultdict(list)
    for store in stores:
        for it in store.iterations():
            if it.memory_levels:
                groups[(it.protocol, it.phase, it.iteration)].append(it)
    points = []
    for (protocol, phase, iteration), its in groups.items():
        levels = sorted({lv for it in its for lv in it.memory_levels})
        points.append(
            MemoryPoint(
                protocol=protocol,
                phase=phase,
                iteration=iteration,
                levels={
                    lv: round(sum(it.memory_levels.get(lv, 0) for it in its) / len(its))
                    for lv in levels
                },
                active=round(sum(it.memory_active for it in its) / len(its)),
            )
        )
    return points


def _portable_manifest(manifest: Manifest, folder: Path) -> Manifest:
    runs = {
        name: run.model_copy(
            update={
                "memory_from": portable(run.memory_from, base=folder) if run.memory_from else None,
                "command": scrub(run.command),
            }
        )
        for name, run in manifest.runs.items()
    }
    return Manifest(runs=runs)


def summarize(folder: str | Path) -> Report:
    """Aggregate a results folder (or the ``seed-*`` folders in it, pooled)."""
    from memory import LEVELS

    stores = _stores(Path(folder))
    results = [r for store in stores for r in store.done().values()]
    by_col: dict[str, list[TaskResult]] = defaultdict(list)
    by_curve: dict[str, dict[int, list[TaskResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_col[column(r)].append(r)
        by_curve[curve_label(r)][r.iteration].append(r)
    columns = list(by_col)
    groups = [_group(c, rows, rows[0].iteration) for c, rows in by_col.items()]
    curves = {
        label: [curve_point(i, rows) for i, rows in sorted(points.items())]
        for label, points in by_curve.items()
    }
    by_category: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_app: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_category[r.category][column(r)].append(r.score)
        for app in r.apps or ["(none)"]:
            by_app[app][column(r)].append(r.score)
    memory = _memory(stores)
    seen = {lv for m in memory for lv in m.levels}
    levels = [*LEVELS, *sorted(seen - set(LEVELS))]
    used = {i for r in results if r.full for i in r.items_used}
    tasks = [
        TaskRow(
            task=r.task,
            column=column(r),
            score=r.score,
            full=r.full,
            steps=r.steps,
            tokens=r.tokens,
            cost_usd=r.cost_usd,
            wall_s=r.wall_s,
            outcome=r.outcome,
        )
        for r in results
    ]
    root = Path(folder)
    notes = [p for store in stores for p in (store.folder / n for n in NOTES) if p.exists()]
    return Report(
        folder=portable(root),
        generated_at=time.time(),
        manifest=_portable_manifest(stores[0].manifest(), stores[0].folder),
        columns=columns,
        groups=groups,
        curves=curves,
        by_category={k: {c: _mean(v) for c, v in cols.items()} for k, cols in by_category.items()},
        by_app={k: {c: _mean(v) for c, v in cols.items()} for k, cols in by_app.items()},
        memory=memory,
        levels=levels,
        families=family_rows(by_curve),
        items_used=items_used(by_curve, _titles(stores, used)),
        tasks=tasks,
        notes=scrub("\n".join(p.read_text(encoding="utf-8") for p in notes)),
    )


def write_report(folder: str | Path, *, out: str | Path | None = None) -> list[Path]:
    """Write ``report.json`` and ``report.html`` into ``out`` (default: the folder)."""
    report = summarize(folder)
    dest = Path(out or folder)
    dest.mkdir(parents=True, exist_ok=True)
    json_path = dest / "report.json"
    json_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    html_path = dest / "report.html"
    html_path.write_text(render_html(report), encoding="utf-8")
    return [json_path, html_path]


# -- HTML --------------------------------------------------------------------------------
def _e(value: object) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]], *, left: int = 1, cls: str = "") -> str:
    head = "".join(
        f'<th class="l">{_e(h)}</th>' if i < left else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            cell
            if cell.startswith("<td")
            else (f'<td class="l">{cell}</td>' if i < left else f"<td>{cell}</td>")
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _score_cell(score: float | None, full: bool = False) -> str:
    if score is None:
        return "<td>–</td>"
    cls = "full" if full or score >= 1.0 else ("zero" if score == 0 else "")
    return f'<td class="{cls}">{score:.2f}</td>'


def _ci(p: CurvePoint) -> str:
    return f"{p.mean_score:.3f} [{p.ci_low:.2f}, {p.ci_high:.2f}]"


def _curve_tables(report: Report) -> list[str]:
    """Per iteration of each curve; first and last iteration per family; items used."""
    parts = ["<h3>Per iteration</h3>"]
    rows = []
    for label, points in sorted(report.curves.items()):
        for p in points:
            rows.append(
                [
                    _e(label),
                    str(p.iteration),
                    str(p.attempts),
                    _ci(p),
                    f"{p.full_rate:.2f}",
                    "–" if p.calls_per_solved is None else f"{p.calls_per_solved:.1f}",
                    "–" if p.tokens_per_solved is None else f"{p.tokens_per_solved:.0f}",
                ]
            )
    headers = ["curve", "iteration", "instances", "mean score [95% CI]", "full-success rate"]
    parts.append(
        _table([*headers, "calls / solved", "tokens / solved"], rows, left=1, cls="iterations")
    )
    if report.families:
        parts.append("<h3>First and last iteration per family</h3>")
        parts.append(
            _table(
                ["curve", "family", "first", "score", "full", "last", "score", "full"],
                [
                    [
                        _e(f.curve),
                        _e(f.family),
                        f"i{f.first_iteration}",
                        f"{f.first_score:.2f}",
                        f"{f.first_full}/{f.first_attempts}",
                        f"i{f.last_iteration}",
                        f"{f.last_score:.2f}",
                        f"{f.last_full}/{f.last_attempts}",
                    ]
                    for f in report.families
                ],
                left=2,
                cls="families",
            )
        )
    parts.append("<h3>Memory items used by solved tasks</h3>")
    rows = [
        [
            _e(curve),
            f"<code>{_e(u.item)}</code>",
            _e(u.title),
            str(u.solved_uses),
            ", ".join(f"i{i}" for i in u.iterations),
        ]
        for curve, uses in sorted(report.items_used.items())
        for u in uses
    ]
    parts.append(
        _table(["curve", "item", "title", "solved uses", "iterations"], rows, left=3, cls="used")
        if rows
        else "<p>No solved task had a memory item in its prompt.</p>"
    )
    return parts


def render_html(report: Report) -> str:
    """The static page of a report."""
    parts: list[str] = []
    parts.append("<h2>Runs</h2>")
    parts.append(
        _table(
            [
                "run",
                "suite",
                "attempts",
                "mean score",
                "full",
                "mean steps",
                "tokens",
                "cost $",
                "time s",
                "errors",
            ],
            [
                [
                    _e(g.label),
                    _e(g.suite),
                    str(g.attempts),
                    f"{g.mean_score:.3f}",
                    str(g.full),
                    f"{g.steps:.1f}",
                    str(g.tokens),
                    f"{g.cost_usd:.4f}",
                    f"{g.wall_s:.0f}",
                    str(g.errors),
                ]
                for g in report.groups
            ],
            left=2,
            cls="runs",
        )
    )
    parts.append("<h2>Learning curve and memory</h2>")
    parts.append('<div class="plots">')
    parts.append(
        _figure(
            plots.curve_svg(report),
            "Mean partial score per iteration, 95% bootstrap interval over instances as a band "
            "(dashed: no memory)",
        )
    )
    evals = {k: v for k, v in report.curves.items() if k.endswith("/eval")}
    if evals:
        parts.append(
            _figure(plots.eval_svg(evals), "Unseen tasks (transfer suite): mean score per run")
        )
    if report.memory:
        parts.append(
            _figure(plots.memory_svg(report), "Active memory items per level, per iteration")
        )
    parts.append(_figure(plots.tokens_svg(report), "Tokens per task (mean over attempts)"))
    parts.append("</div>")
    parts += _curve_tables(report)
    if report.memory:
        levels = report.levels or sorted({lv for m in report.memory for lv in m.levels})
        parts.append("<h3>Memory by level (active items after each iteration)</h3>")
        parts.append(
            _table(
                ["run", "iteration", *levels, "active"],
                [
                    [
                        _e(m.protocol if m.phase == "run" else f"{m.protocol}/{m.phase}"),
                        str(m.iteration),
                        *[str(m.levels.get(lv, 0)) for lv in levels],
                        str(m.active),
                    ]
                    for m in report.memory
                ],
                cls="memory",
            )
        )
    for title, data in (
        ("Score per category", report.by_category),
        ("Score per app", report.by_app),
    ):
        parts.append(f"<h2>{title}</h2>")
        parts.append(
            _table(
                [title.split()[-1], *report.columns],
                [
                    [_e(k), *[_score_cell(cols.get(c)) for c in report.columns]]
                    for k, cols in sorted(data.items())
                ],
                cls="by",
            )
        )
    parts.append("<h2>Score per task</h2>")
    cells: dict[str, dict[str, TaskRow]] = defaultdict(dict)
    for t in report.tasks:
        cells[t.task][t.column] = t
    parts.append(
        _table(
            ["task", *report.columns],
            [
                [
                    _e(task),
                    *[
                        _score_cell(row.score, row.full) if (row := cols.get(c)) else "<td>–</td>"
                        for c in report.columns
                    ],
                ]
                for task, cols in sorted(cells.items())
            ],
            cls="tasks",
        )
    )
    parts.append("<h2>Tokens and cost per task</h2>")
    parts.append(
        _table(
            ["task", "run", "outcome", "steps", "tokens", "cost $", "time s"],
            [
                [
                    _e(t.task),
                    _e(t.column),
                    _e(t.outcome),
                    str(t.steps),
                    str(t.tokens),
                    f"{t.cost_usd:.4f}",
                    f"{t.wall_s:.1f}",
                ]
                for t in sorted(report.tasks, key=lambda t: (t.task, t.column))
            ],
            left=3,
            cls="cost",
        )
    )
    if report.notes:
        parts.append("<h2>Notes</h2>")
        parts.append(f'<pre class="notes">{_e(report.notes)}</pre>')
    meta = []
    for name, run in report.manifest.runs.items():
        sha = f", model sha256 <code>{_e(run.model_sha256)}</code>" if run.model_sha256 else ""
        meta.append(
            f"<div><b>{_e(name)}</b>: suite {_e(run.suite)} ({len(run.tasks)} tasks"
            + (
                f"; transfer {_e(run.transfer_suite)}, {len(run.transfer_tasks)} tasks"
                if run.transfer_suite
                else ""
            )
            + f"), {run.iterations} iteration(s), model <code>{_e(run.model)}</code>{sha}"
            + (f"<br>command: <code>{_e(run.command)}</code>" if run.command else "")
            + "</div>"
        )
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(report.generated_at))
    meta.append(f"<div>generated {stamp} from <code>{_e(report.folder)}</code></div>")
    template = Template(TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        title=_e(f"Benchmark report: {Path(report.folder).name}"),
        meta="\n".join(meta),
        body="\n".join(parts),
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"
