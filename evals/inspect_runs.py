"""Inspection helpers for benchmark runs: where the results are, how memory grew."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evals.inspect_tables import LEVEL_COLOURS, Table
from memory import LEVELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evals.bench.records import IterationRecord, TaskResult

RESULTS_ENV = "JOURNEYMAN_RESULTS"
"""A benchmark results folder (``journeyman bench run ... --out DIR``), optional."""


# ------------------------------------------------------------------------- benchmark runs
def results_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """The benchmark results folder from ``$JOURNEYMAN_RESULTS``, if set."""
    env = os.environ if environ is None else environ
    value = env.get(RESULTS_ENV)
    return Path(value).expanduser() if value else None


def load_run(folder: Path) -> tuple[list[IterationRecord], list[TaskResult]]:
    """The iteration and task records of a ``journeyman bench run`` folder."""
    from evals.bench.store import ResultsStore

    results = ResultsStore(folder)
    if not results.exists():
        raise FileNotFoundError(f"{folder} holds no benchmark results (results.jsonl)")
    return results.iterations(), results.results()


GROWTH_COLUMNS = [
    *("protocol", "phase", "iteration", "tasks", "mean score", "full"),
    *LEVELS,
    *("active", "written"),
]


def growth_table(iterations: Sequence[IterationRecord], tasks: Sequence[TaskResult]) -> Table:
    """Per protocol, phase and iteration: mean score beside active memory per level."""
    written = Counter((t.protocol, t.phase, t.iteration) for t in tasks for _ in t.items_written)
    rows = []
    for r in sorted(iterations, key=lambda r: (r.protocol, r.phase, r.iteration)):
        rows.append(
            [
                r.protocol,
                r.phase,
                r.iteration,
                r.tasks,
                r.mean_score,
                r.full,
                *(r.memory_levels.get(lv, 0) for lv in LEVELS),
                r.memory_active,
                written.get((r.protocol, r.phase, r.iteration), 0),
            ]
        )
    return Table(
        GROWTH_COLUMNS,
        rows,
        title="Memory growth and score per iteration",
    )


def growth_figure(iterations: Sequence[IterationRecord]) -> Figure:
    """Per protocol with memory: stacked active items per level (bars) beside the mean score
    (line); a no-memory baseline, when run, is drawn as a dashed line on each panel."""
    import matplotlib.pyplot as plt

    groups: dict[tuple[str, str], list[IterationRecord]] = {}
    for r in iterations:
        groups.setdefault((r.protocol, r.phase), []).append(r)
    baseline = groups.pop(("no-memory", "run"), [])
    base_score = sum(r.mean_score for r in baseline) / len(baseline) if baseline else None
    panels = sorted(groups.items()) or [(("no-memory", "run"), baseline)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, ((protocol, phase), recs) in zip(axes[0], panels, strict=True):
        recs = sorted(recs, key=lambda r: r.iteration)
        xs = [r.iteration for r in recs]
        bottom = [0] * len(recs)
        for lv in LEVELS:
            ys = [r.memory_levels.get(lv, 0) for r in recs]
            if any(ys):
                ax.bar(xs, ys, bottom=bottom, color=LEVEL_COLOURS[lv], alpha=0.75, label=lv)
                bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
        ax.set(title=f"{protocol} ({phase})", xlabel="iteration", ylabel="active memory items")
        ax.set_xticks(xs)
        score_ax = ax.twinx()
        score_ax.plot(xs, [r.mean_score for r in recs], "ko-", label="mean score")
        if base_score is not None:
            score_ax.axhline(base_score, ls="--", color="grey", label="no-memory score")
        score_ax.set(ylim=(0, 1.05), ylabel="mean score")
        handles = ax.get_legend_handles_labels()
        score_handles = score_ax.get_legend_handles_labels()
        ax.legend(handles[0] + score_handles[0], handles[1] + score_handles[1], fontsize=8)
    fig.tight_layout()
    return fig
