"""The plots of a benchmark report: inline SVG drawn with matplotlib (no scripts).

The learning curve shows each curve's mean partial score per iteration with its bootstrap
interval over instances as a band; no-memory is dashed.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from evals.report_curve import CurvePoint

if TYPE_CHECKING:
    from evals.report import Report


def svg(fig: object) -> str:
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


def curve_svg(report: Report) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))  # type: ignore[attr-defined]
    last = max((p.iteration for pts in report.curves.values() for p in pts), default=1)
    for label, points in sorted(report.curves.items()):
        if label.endswith("/eval"):
            continue  # other tasks: drawn apart (eval_svg)
        xs = [p.iteration for p in points]
        ys = [p.mean_score for p in points]
        lows, highs = [p.ci_low for p in points], [p.ci_high for p in points]
        if label.startswith("no-memory"):
            if len(xs) == 1:
                xs, ys, lows, highs = [1, max(last, 2)], ys * 2, lows * 2, highs * 2
            ax.plot(xs, ys, linestyle="--", color="0.45", label=label)
            ax.fill_between(xs, lows, highs, color="0.45", alpha=0.15, linewidth=0)
        elif len(xs) == 1:
            err = [[ys[0] - lows[0]], [highs[0] - ys[0]]]
            ax.errorbar(xs, ys, yerr=err, marker="s", linestyle="none", capsize=4, label=label)
        else:
            (line,) = ax.plot(xs, ys, marker="o", label=label)
            ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.18, linewidth=0)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean score")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(range(1, max(last, 2) + 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return svg(fig)


def eval_svg(curves: dict[str, list[CurvePoint]]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 2.6))  # type: ignore[attr-defined]
    labels = sorted(curves)
    means = [curves[k][-1].mean_score for k in labels]
    err = [
        [m - curves[k][-1].ci_low for k, m in zip(labels, means, strict=True)],
        [curves[k][-1].ci_high - m for k, m in zip(labels, means, strict=True)],
    ]
    colors = ["0.55" if k.startswith("no-memory") else "C2" for k in labels]
    ax.barh(range(len(labels)), means, color=colors, xerr=err, capsize=4)
    for i, m in enumerate(means):
        ax.text(m + 0.01, i, f"{m:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("mean score")
    ax.grid(axis="x", alpha=0.3)
    return svg(fig)


def memory_svg(report: Report) -> str:
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
    return svg(fig)


def tokens_svg(report: Report) -> str:
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
    return svg(fig)
