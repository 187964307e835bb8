"""What the memory inspection notebook shows, computed through the public memory API only.

``notebooks/memory_inspection.ipynb`` calls these functions and displays what they
return: :class:`Table` objects (HTML in Jupyter, aligned text elsewhere), plain strings
(the scope tree, version diffs, episode timelines) and matplotlib figures. Nothing here
writes to a store; stores are opened read-only.
"""

from __future__ import annotations

import difflib
import html
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory import (
    LEVELS,
    STATUSES,
    Episode,
    ItemNotFound,
    ItemVersion,
    MemoryItem,
    MemoryStore,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evals.bench.records import IterationRecord, TaskResult

SAMPLE_STORE = Path("~/.cache/journeyman/sample-store")
"""Where ``python -m evals.sample_store`` builds the sample store by default."""
STORE_ENV = "JOURNEYMAN_MEMORY__PATH"
"""The store to inspect. The agent's own setting for its store path, so the notebook opens
the store a ``JOURNEYMAN_*``-configured agent uses. (A bare ``JOURNEYMAN_MEMORY`` would be
read by the agent's settings as the whole ``memory`` section and break them.)"""
RESULTS_ENV = "JOURNEYMAN_RESULTS"
"""A benchmark results folder (``journeyman bench run ... --out DIR``), optional."""
LEVEL_COLOURS = {
    "strategic": "#4c72b0",
    "procedural": "#55a868",
    "tool": "#c44e52",
    "episodic": "#8172b2",
}


# ------------------------------------------------------------------------- tables
@dataclass
class Table:
    """A small table that renders as HTML in Jupyter and as aligned text anywhere else."""

    columns: list[str]
    rows: list[list[Any]]
    title: str = ""
    empty: str = "(none)"

    def cell(self, value: Any) -> str:
        """A value as table text."""
        if isinstance(value, float):
            return f"{value:.2f}"
        return "" if value is None else str(value)

    def __str__(self) -> str:
        texts = [[self.cell(v) for v in row] for row in self.rows]
        widths = [max([len(c), *(len(r[i]) for r in texts)]) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in texts
        ]
        if not self.rows:
            lines.append(self.empty)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(self.cell(v))}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        if not self.rows:
            body = f"<tr><td colspan='{len(self.columns)}'>{html.escape(self.empty)}</td></tr>"
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def when(ts: float | None) -> str:
    """A timestamp as local ``YYYY-MM-DD HH:MM:SS`` (empty for None)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def short(text: str, n: int = 60) -> str:
    """One line of at most ``n`` characters."""
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


# ------------------------------------------------------------------------- opening
def store_path(environ: Mapping[str, str] | None = None) -> Path:
    """The store to inspect: ``$JOURNEYMAN_MEMORY__PATH``, else the sample store."""
    env = os.environ if environ is None else environ
    return Path(env.get(STORE_ENV) or SAMPLE_STORE).expanduser()


def open_store(path: Path | str) -> MemoryStore:
    """Open a store read-only, with a message that says what to do when there is none."""
    try:
        return MemoryStore.open(path, readonly=True)
    except ItemNotFound as exc:
        raise FileNotFoundError(
            f"{exc}. Build the sample store with `python -m evals.sample_store`, or set "
            f"{STORE_ENV} to a memory store folder."
        ) from exc


def all_items(store: MemoryStore) -> list[MemoryItem]:
    """Every item of any level and status, newest first."""
    return store.list_items(limit=None)


# ------------------------------------------------------------------------- counts
def overview(store: MemoryStore) -> Table:
    """The store at a glance: size, trust, episodes, versions, index health."""
    st = store.stats()
    idx = st["index"]
    rows: list[list[Any]] = [
        ["path", st["path"]],
        ["items (all statuses)", st["items"]],
        ["active items", st["active"]],
        ["trusted / untrusted", f"{st['trust']['trusted']} / {st['trust']['untrusted']}"],
        ["episodes", st["episodes"]],
        ["versions", st["versions"]],
        ["index", f"{idx['count']} vectors, {'in sync' if idx['in_sync'] else 'out of sync'}"],
        ["database", f"{st['db_bytes'] / 1024:.0f} KiB"],
    ]
    return Table(["", "value"], rows, title="Store")


def counts_by_level(store: MemoryStore) -> Table:
    """Items per level and status (from ``stats()``), with totals."""
    levels: dict[str, dict[str, int]] = store.stats()["levels"]
    rows: list[list[Any]] = []
    for level, counts in levels.items():
        rows.append([level, *(counts.get(s, 0) for s in STATUSES), sum(counts.values())])
    totals = [sum(r[i + 1] for r in rows) for i in range(len(STATUSES) + 1)]
    rows.append(["total", *totals])
    return Table(["level", *STATUSES, "total"], rows, title="Items per level and status")


def counts_by_scope(items: Iterable[MemoryItem], *, top: int = 20) -> Table:
    """Items per scope root (``task/<id>`` scopes folded into ``task/*``) and status."""
    counts: dict[str, Counter[str]] = {}
    for it in items:
        scope = "task/*" if it.scope.startswith("task/") else it.scope
        counts.setdefault(scope, Counter())[it.status] += 1
    rows = [
        [scope, *(c.get(s, 0) for s in STATUSES), sum(c.values())]
        for scope, c in sorted(counts.items(), key=lambda p: (-sum(p[1].values()), p[0]))
    ]
    return Table(["scope", *STATUSES, "total"], rows[:top], title="Items per scope and status")


def counts_by_trust(items: Iterable[MemoryItem]) -> Table:
    """Items per level and trust."""
    counts = Counter((it.level, it.trust) for it in items)
    rows = [[lv, counts.get((lv, "trusted"), 0), counts.get((lv, "untrusted"), 0)] for lv in LEVELS]
    return Table(["level", "trusted", "untrusted"], rows, title="Items per level and trust")


# ------------------------------------------------------------------------- the tree
@dataclass
class _Node:
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    children: dict[str, _Node] = field(default_factory=dict)
    items: list[MemoryItem] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.counts.values())


def scope_tree(
    store: MemoryStore,
    *,
    items: Sequence[MemoryItem] | None = None,
    max_children: int = 6,
    max_items: int = 3,
) -> str:
    """The hierarchy of active items as a text tree: scope segments, counts per level, and
    the most useful items under each scope. Built from ``tree()``; titles from ``list_items``."""
    root = _Node("memory")
    for row in store.tree():
        node = root
        counts = Counter({k: int(v) for k, v in row["counts"].items()})
        root.counts.update(counts)
        for part in row["scope"].split("/"):
            node = node.children.setdefault(part, _Node(part))
            node.counts.update(counts)
    active = [
        it for it in (items if items is not None else all_items(store)) if it.status == "active"
    ]
    for it in active:
        node = root
        for part in it.scope.split("/"):
            node = node.children.setdefault(part, _Node(part))
        node.items.append(it)
    per_level = _levels(root.counts)
    lines = [f"memory: {root.total()} active items" + (f" ({per_level})" if per_level else "")]
    _draw(root, "", lines, max_children=max_children, max_items=max_items)
    return "\n".join(lines)


def _levels(counts: Counter[str]) -> str:
    return ", ".join(f"{lv} {counts[lv]}" for lv in LEVELS if counts.get(lv))


def _draw(node: _Node, prefix: str, lines: list[str], *, max_children: int, max_items: int) -> None:
    # episodes' ``task/<id>`` scopes are many and alike: after the rest, and folded
    children = sorted(node.children.values(), key=lambda n: (n.name == "task", -n.total(), n.name))
    if node.name == "task":
        max_children = min(max_children, 3)
    items = sorted(node.items, key=lambda i: (-i.utility, -i.retrieved))
    entries: list[_Node | MemoryItem | str] = [*items[:max_items]]
    if len(items) > max_items:
        entries.append(f"… {len(items) - max_items} more items")
    entries += children[:max_children]
    if len(children) > max_children:
        rest = children[max_children:]
        entries.append(f"… {len(rest)} more scopes ({sum(n.total() for n in rest)} items)")
    for i, entry in enumerate(entries):
        last = i == len(entries) - 1
        branch, pad = ("└── ", "    ") if last else ("├── ", "│   ")
        if isinstance(entry, _Node):
            lines.append(f"{prefix}{branch}{entry.name}/  ({_levels(entry.counts)})")
            _draw(entry, prefix + pad, lines, max_children=max_children, max_items=max_items)
        elif isinstance(entry, str):
            lines.append(f"{prefix}{branch}{entry}")
        else:
            lines.append(
                f"{prefix}{branch}[{entry.level[0]}] {short(entry.title, 56)}  "
                f"(utility {entry.utility:.2f}, {entry.success}+/{entry.failure}-)"
            )


# ------------------------------------------------------------------------- usefulness
_USAGE_COLUMNS = [
    "id",
    "level",
    "status",
    "title",
    "retrieved",
    "success",
    "failure",
    "utility",
    "last used",
]


def _usage_row(it: MemoryItem) -> list[Any]:
    return [
        it.id,
        it.level,
        it.status,
        short(it.title, 48),
        it.retrieved,
        it.success,
        it.failure,
        it.utility,
        when(it.last_used),
    ]


def used_items(items: Iterable[MemoryItem]) -> list[MemoryItem]:
    """Non-episodic items that were credited or debited at least once."""
    return [it for it in items if it.level != "episodic" and it.uses > 0]


def most_useful(items: Iterable[MemoryItem], n: int = 5) -> Table:
    """Used items with the highest utility (ties: more uses first)."""
    ranked = sorted(used_items(items), key=lambda i: (-i.utility, -i.uses, i.id))
    return Table(_USAGE_COLUMNS, [_usage_row(i) for i in ranked[:n]], title="Most useful")


def least_useful(items: Iterable[MemoryItem], n: int = 5) -> Table:
    """Used items with the lowest utility (ties: more uses first): candidates to curate."""
    ranked = sorted(used_items(items), key=lambda i: (i.utility, -i.uses, i.id))
    return Table(_USAGE_COLUMNS, [_usage_row(i) for i in ranked[:n]], title="Least useful")


def never_used(items: Iterable[MemoryItem]) -> Table:
    """Active non-episodic items never put in a prompt."""
    rows = [
        [it.id, it.level, it.scope, short(it.title, 56), when(it.created_at)]
        for it in items
        if it.level != "episodic" and it.status == "active" and it.retrieved == 0
    ]
    return Table(["id", "level", "scope", "title", "created"], rows, title="Never retrieved")


def usage_figure(items: Sequence[MemoryItem]) -> Figure:
    """Three panels: utility histogram per level, retrievals per item, credits vs debits."""
    import matplotlib.pyplot as plt

    kept = [it for it in items if it.level != "episodic"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    bins = [i / 10 for i in range(11)]
    data = [[it.utility for it in kept if it.level == lv] for lv in LEVELS if lv != "episodic"]
    labels = [lv for lv in LEVELS if lv != "episodic"]
    ax.hist(data, bins=bins, stacked=True, label=labels, color=[LEVEL_COLOURS[lv] for lv in labels])
    ax.set(title="Utility (s+1)/(s+f+2)", xlabel="utility", ylabel="items")
    ax.legend(fontsize=8)

    ax = axes[1]
    retrieved = [it.retrieved for it in kept]
    top = max(retrieved, default=0)
    ax.hist(retrieved, bins=range(0, top + 2), color="#64b5cd", edgecolor="white")
    ax.set(title="Times retrieved into a prompt", xlabel="retrievals", ylabel="items")

    ax = axes[2]
    for lv in labels:
        pts = [it for it in kept if it.level == lv]
        ax.scatter(
            [it.success for it in pts],
            [it.failure for it in pts],
            s=[30 + 12 * it.retrieved for it in pts],
            alpha=0.6,
            color=LEVEL_COLOURS[lv],
            label=lv,
        )
    hi = max([it.success for it in kept] + [it.failure for it in kept] + [1])
    ax.plot([0, hi], [0, hi], ls=":", color="grey", lw=1)
    ax.set(title="Credits vs debits (size: retrievals)", xlabel="success", ylabel="failure")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------- history
def most_revised(items: Iterable[MemoryItem]) -> MemoryItem | None:
    """The non-episodic item with the most versions (ties: most recently changed)."""
    cands = [it for it in items if it.level != "episodic"]
    return max(cands, key=lambda i: (i.version, i.updated_at), default=None)


def _version_text(data: Mapping[str, Any]) -> list[str]:
    lines = [
        f"title: {data.get('title', '')}",
        f"level: {data.get('level', '')}   scope: {data.get('scope', '')}",
        f"status: {data.get('status', '')}   trust: {data.get('trust', '')}",
    ]
    if data.get("when_to_use"):
        lines.append(f"when: {data['when_to_use']}")
    if data.get("tags"):
        lines.append("tags: " + ", ".join(data["tags"]))
    lines.append("content:")
    lines += [f"  {line}" for line in str(data.get("content", "")).splitlines()]
    for key in ("supersedes", "superseded_by"):
        if data.get(key):
            lines.append(f"{key}: {data[key]}")
    if data.get("corroborations"):
        lines.append("corroborated by: " + ", ".join(data["corroborations"]))
    return lines


def history_diff(store: MemoryStore, item_id: str) -> str:
    """An item's versions, oldest first: who changed it, when and why, each as a unified
    diff against the version before (the first version in full)."""
    versions = store.history(item_id)
    out: list[str] = []
    previous: list[str] | None = None
    for v in versions:
        out.append(f"=== v{v.version}  {when(v.created_at)}  by {v.actor}: {v.reason}")
        text_ = _version_text(v.data)
        if previous is None:
            out += text_
        else:
            diff = list(
                difflib.unified_diff(
                    previous, text_, f"v{v.version - 1}", f"v{v.version}", n=1, lineterm=""
                )
            )
            out += diff or ["(no change to the text)"]
        out.append("")
        previous = text_
    return "\n".join(out).rstrip()


# ------------------------------------------------------------------------- episodes
def pick_episode(store: MemoryStore, episode_id: str | None = None) -> Episode | None:
    """The episode to show: the one asked for, else the recent one that wrote the most
    items (ties: the most items in context)."""
    if episode_id:
        return store.get_episode(episode_id)
    eps = store.episodes(limit=200)
    return max(eps, key=lambda e: (len(e.items_written), len(e.items_used)), default=None)


def episode_summary(ep: Episode) -> Table:
    """How an episode ended: task, outcome, score, steps, tokens, cost."""
    usage = ep.usage or {}
    rows: list[list[Any]] = [
        ["episode", ep.id],
        ["task", ep.task],
        ["outcome", ep.outcome],
        ["score", "" if ep.score is None else f"{ep.score:.2f}"],
        ["when", when(ep.created_at)],
        ["steps recorded", len(ep.steps())],
        ["model calls", usage.get("calls", "")],
        ["tokens in / out", f"{usage.get('input_tokens', 0)} / {usage.get('output_tokens', 0)}"],
        ["cost (USD)", f"{float(usage.get('cost_usd', 0.0)):.4f}"],
    ]
    return Table(["", "value"], rows, title="Episode")


def episode_items(store: MemoryStore, ids: Sequence[str], title: str) -> Table:
    """The items of an episode (in context, or written) as they are now."""
    found = {it.id: it for it in store.get_many(list(ids))}
    rows: list[list[Any]] = []
    for i in ids:
        it = found.get(i)
        if it is None:
            rows.append([i, "", "", "", "(no longer in the store)", ""])
            continue
        first = store.history(i)[0]
        rows.append([i, it.level, it.status, it.trust, short(it.title, 56), first.reason])
    return Table(
        ["id", "level", "status now", "trust", "title", "first version"], rows, title=title
    )


def episode_timeline(ep: Episode, *, width: int = 110) -> str:
    """The trajectory, one line a step: actions, answers, verdicts, what was written."""
    lines = []
    for step in ep.steps():
        where = f"s{step.get('subtask', '?')}.a{step.get('attempt', '?')}"
        kind = step.get("kind", "?")
        if kind == "tool":
            args = ", ".join(f"{k}={v!r}" for k, v in (step.get("arguments") or {}).items())
            result = step.get("error") or step.get("output") or ""
            text_ = f"{step.get('tool')}({args}) -> {short(str(result), 50)}"
        elif kind == "model":
            calls = [c.get("name", "?") for c in step.get("tool_calls") or []]
            text_ = f"calls {', '.join(calls)}" if calls else f"answers {step.get('text', '')!r}"
        elif kind == "reflection":
            verdict = "achieved" if step.get("achieved") else "NOT achieved"
            text_ = verdict + (f": {step['analysis']}" if step.get("analysis") else "")
            if step.get("written"):
                text_ += f"; wrote {', '.join(step['written'])}"
        else:
            text_ = str(step.get("text", step))
        lines.append(short(f"{where:8} {kind:10} {text_}", width))
    lines.append(
        f"ended: {ep.outcome}" + (f" (score {ep.score:.2f})" if ep.score is not None else "")
    )
    return "\n".join(lines)


def retrieval_now(store: MemoryStore, task: str, *, k: int = 5) -> Table:
    """What retrieval returns for a task today, with fused scores (why items get chosen)."""
    hits = [
        *[("always-on", h) for h in store.strategic()],
        *[("similar", h) for h in store.search(task, level=["procedural", "tool"], k=k)],
    ]
    rows = [
        [why, h.item.id, h.item.level, short(h.item.title, 56), h.score, h.item.utility]
        for why, h in hits
    ]
    return Table(
        ["why", "id", "level", "title", "score", "utility"], rows, title=f"Retrieval for: {task}"
    )


# ------------------------------------------------------------------------- review
def why_held(it: MemoryItem, versions: Sequence[ItemVersion] = ()) -> str:
    """Why an item is held back, in words: the reason recorded when it was put on hold
    (by the agent or a person), else what the write gate does with such text."""
    if it.status in ("quarantined", "candidate"):
        held = [v for v in versions if v.data.get("status") == it.status]
        if held and held[0].version > 1:
            return f"{held[0].actor}: {held[0].reason}"
    if it.status == "quarantined":
        if it.trust == "untrusted":
            return "untrusted text that gives instructions (possible injection)"
        return "held back for review"
    if it.status == "candidate":
        if it.supersedes:
            return f"untrusted text that would supersede {it.supersedes}"
        n = len(set(it.corroborations or []))
        return f"untrusted lesson from {n} episode(s): needs 2, or approval"
    return "learned from untrusted content (pages, files, output)"


def review_queue(store: MemoryStore, items: Iterable[MemoryItem]) -> Table:
    """Items that need a person: candidates, quarantined items, untrusted active items."""
    order = {"quarantined": 0, "candidate": 1, "active": 2}
    pending = [
        it
        for it in items
        if it.status in ("candidate", "quarantined")
        or (it.trust == "untrusted" and it.status == "active" and it.level != "episodic")
    ]
    pending.sort(key=lambda i: (order.get(i.status, 3), i.level, i.id))
    rows = []
    for it in pending:
        versions = store.history(it.id)
        last = versions[-1]
        source = it.prov_source or (f"episode {it.prov_episode}" if it.prov_episode else "")
        rows.append(
            [
                it.id,
                it.status,
                it.level,
                short(it.title, 48),
                short(why_held(it, versions), 64),
                source,
                short(f"{last.actor}: {last.reason}", 48),
            ]
        )
    return Table(
        ["id", "status", "level", "title", "why", "source", "last change"],
        rows,
        title="Awaiting review",
        empty="nothing awaits review",
    )


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
