"""Reports of benchmark runs: a JSON summary and one static HTML page, viewable offline.

    paths = write_report("evals/results/run-1")   # -> [report.json, report.html]

The page holds tables per protocol, category, app and task, the learning curve per
iteration beside the no-memory baseline, memory growth per level, and tokens and cost per
task. Plots are inline SVG drawn with matplotlib (no scripts, no network).
"""

from __future__ import annotations

import html
import io
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from string import Template

from pydantic import BaseModel, Field

from evals.bench.records import IterationRecord, Manifest, TaskResult
from evals.bench.store import ResultsStore

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


class CurvePoint(BaseModel):
    """One point of a learning curve."""

    iteration: int
    mean_score: float
    attempts: int


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


def summarize(folder: str | Path) -> Report:
    """Aggregate a results folder."""
    store = ResultsStore(Path(folder))
    if not store.exists():
        raise FileNotFoundError(f"no benchmark results in {folder} (no results.jsonl)")
    results = list(store.done().values())
    by_col: dict[str, list[TaskResult]] = defaultdict(list)
    by_curve: dict[str, dict[int, list[TaskResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_col[column(r)].append(r)
        by_curve[curve_label(r)][r.iteration].append(r)
    columns = list(by_col)
    groups = [_group(c, rows, rows[0].iteration) for c, rows in by_col.items()]
    curves = {
        label: [
            CurvePoint(iteration=i, mean_score=_mean(r.score for r in rows), attempts=len(rows))
            for i, rows in sorted(points.items())
        ]
        for label, points in by_curve.items()
    }
    by_category: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_app: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_category[r.category][column(r)].append(r.score)
        for app in r.apps or ["(none)"]:
            by_app[app][column(r)].append(r.score)
    memory = [
        MemoryPoint(
            protocol=it.protocol,
            phase=it.phase,
            iteration=it.iteration,
            levels=it.memory_levels,
            active=it.memory_active,
        )
        for it in store.iterations()
        if it.memory_levels
    ]
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
    notes = [store.folder / n for n in NOTES]
    return Report(
        folder=str(store.folder),
        generated_at=time.time(),
        manifest=store.manifest(),
        columns=columns,
        groups=groups,
        curves=curves,
        by_category={k: {c: _mean(v) for c, v in cols.items()} for k, cols in by_category.items()},
        by_app={k: {c: _mean(v) for c, v in cols.items()} for k, cols in by_app.items()},
        memory=memory,
        tasks=tasks,
        notes="\n".join(p.read_text(encoding="utf-8") for p in notes if p.exists()),
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
    parts.append(_figure(_curve_svg(report), "Mean score per iteration (dashed: no memory)"))
    evals = {k: v for k, v in report.curves.items() if k.endswith("/eval")}
    if evals:
        parts.append(_figure(_eval_svg(evals), "Unseen tasks (transfer suite): mean score per run"))
    if report.memory:
        parts.append(_figure(_memory_svg(report), "Active memory items per level, per iteration"))
    parts.append(_figure(_tokens_svg(report), "Tokens per task (mean over attempts)"))
    parts.append("</div>")
    if report.memory:
        levels = sorted({lv for m in report.memory for lv in m.levels})
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


# -- plots -------------------------------------------------------------------------------
def _svg(fig: object) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    text = buf.getvalue()
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def _plt() -> object:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "journeyman"
    import matplotlib.pyplot as plt

    return plt


def _curve_svg(report: Report) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))  # type: ignore[attr-defined]
    last = max((p.iteration for pts in report.curves.values() for p in pts), default=1)
    for label, points in sorted(report.curves.items()):
        if label.endswith("/eval"):
            continue  # other tasks: drawn apart (_eval_svg)
        xs = [p.iteration for p in points]
        ys = [p.mean_score for p in points]
        if label.startswith("no-memory"):
            if len(xs) == 1:
                xs, ys = [1, max(last, 2)], ys * 2
            ax.plot(xs, ys, linestyle="--", color="0.45", label=label)
        elif len(xs) == 1:
            ax.plot(xs, ys, marker="s", linestyle="none", markersize=8, label=label)
        else:
            ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean score")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(range(1, max(last, 2) + 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _svg(fig)


def _eval_svg(curves: dict[str, list[CurvePoint]]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 2.6))  # type: ignore[attr-defined]
    labels = sorted(curves)
    means = [curves[k][-1].mean_score for k in labels]
    colors = ["0.55" if k.startswith("no-memory") else "C2" for k in labels]
    ax.barh(range(len(labels)), means, color=colors)
    for i, m in enumerate(means):
        ax.text(m + 0.01, i, f"{m:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("mean score")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _memory_svg(report: Report) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))  # type: ignore[attr-defined]
    levels = sorted({lv for m in report.memory for lv in m.levels})
    labels = [
        f"{m.protocol if m.phase == 'run' else m.protocol + '/' + m.phase} i{m.iteration}"
        for m in report.memory
    ]
    bottom = [0] * len(report.memory)
    for lv in levels:
        heights = [m.levels.get(lv, 0) for m in report.memory]
        ax.bar(range(len(labels)), heights, bottom=bottom, label=lv)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("active items")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


def _tokens_svg(report: Report) -> str:
    plt = _plt()
    runs = sorted({t.column.rsplit(" ", 1)[0] for t in report.tasks})
    tasks = sorted({t.task for t in report.tasks})
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.32 * max(len(tasks), 3)))  # type: ignore[attr-defined]
    height = 0.8 / max(len(runs), 1)
    for j, run in enumerate(runs):
        means = []
        for task in tasks:
            vals = [
                t.tokens for t in report.tasks if t.task == task and t.column.startswith(run + " ")
            ]
            means.append(sum(vals) / len(vals) if vals else 0)
        ax.barh([i + j * height for i in range(len(tasks))], means, height=height, label=run)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(tasks))])
    ax.set_yticklabels([t.split("/", 1)[-1] for t in tasks], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("tokens")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)
