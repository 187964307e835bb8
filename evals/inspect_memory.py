"""What the memory inspection notebook shows, computed through the public memory API only.

``notebooks/memory_inspection.ipynb`` calls these functions and displays what they
return: :class:`Table` objects (HTML in Jupyter, aligned text elsewhere), plain strings
(the scope tree, version diffs, episode timelines) and matplotlib figures. Nothing here
writes to a store; stores are opened read-only. The episode and review helpers live in
evals/inspect_episodes.py, the benchmark-run helpers in evals/inspect_runs.py and the
display pieces in evals/inspect_tables.py; all are re-exported here for the notebook.
"""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.inspect_episodes import (
    episode_items,
    episode_summary,
    episode_timeline,
    pick_episode,
    retrieval_now,
    review_queue,
    why_held,
)
from evals.inspect_runs import RESULTS_ENV, growth_figure, growth_table, load_run, results_folder
from evals.inspect_tables import LEVEL_COLOURS, Table, short, when
from memory import (
    LEVELS,
    STATUSES,
    ItemNotFound,
    MemoryItem,
    MemorySettings,
    MemoryStore,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SAMPLE_STORE = Path("~/.cache/journeyman/sample-store")
"""Where ``python -m evals.sample_store`` builds the sample store by default."""
STORE_ENV = "JOURNEYMAN_MEMORY__PATH"
"""The store to inspect. The agent's own setting for its store path, so the notebook opens
the store a ``JOURNEYMAN_*``-configured agent uses. (A bare ``JOURNEYMAN_MEMORY`` would be
read by the agent's settings as the whole ``memory`` section and break them.)"""


# ------------------------------------------------------------------------- opening
def store_path(environ: Mapping[str, str] | None = None) -> Path:
    """The store to inspect: ``$JOURNEYMAN_MEMORY__PATH``, else the sample store."""
    env = os.environ if environ is None else environ
    return Path(env.get(STORE_ENV) or SAMPLE_STORE).expanduser()


def memory_settings() -> MemorySettings:
    """The agent's memory settings (``JOURNEYMAN_MEMORY__*`` and the config file): the
    backend, and for a PostgreSQL store its database and index server."""
    from agent.config import load_settings

    return load_settings().memory


def open_store(path: Path | str, settings: MemorySettings | None = None) -> MemoryStore:
    """Open a store read-only (with the agent's memory settings unless given), with a
    message that says what to do when there is none."""
    try:
        return MemoryStore.open(path, settings=settings or memory_settings(), readonly=True)
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


def skills_table(store: MemoryStore, items: Iterable[MemoryItem]) -> Table:
    """Skills the learner induced: signature, steps, status, and the replays and uses in
    their history."""
    from agent.skills import parse_skill

    rows = []
    for it in items:
        if it.level != "skill":
            continue
        skill = parse_skill(it.content)
        reasons = [v.reason for v in store.history(it.id)]
        rows.append(
            [
                it.id,
                it.status,
                short(skill.signature() if skill else it.title, 60),
                " > ".join(s.tool for s in skill.steps) if skill else "?",
                sum("replayed" in r for r in reasons),
                sum(r.startswith("used") for r in reasons),
                sum(r.startswith("use failed") for r in reasons),
            ]
        )
    columns = ["id", "status", "signature", "steps", "replays", "uses ok", "uses failed"]
    return Table(columns, rows, title="Skills (induced from verified attempts)")


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


__all__ = [
    "LEVEL_COLOURS",
    "RESULTS_ENV",
    "SAMPLE_STORE",
    "STORE_ENV",
    "Table",
    "all_items",
    "counts_by_level",
    "counts_by_scope",
    "counts_by_trust",
    "episode_items",
    "episode_summary",
    "episode_timeline",
    "growth_figure",
    "growth_table",
    "history_diff",
    "least_useful",
    "load_run",
    "most_revised",
    "most_useful",
    "never_used",
    "open_store",
    "overview",
    "pick_episode",
    "results_folder",
    "retrieval_now",
    "review_queue",
    "scope_tree",
    "short",
    "skills_table",
    "store_path",
    "usage_figure",
    "used_items",
    "when",
    "why_held",
]
