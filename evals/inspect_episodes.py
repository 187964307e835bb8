"""Inspection helpers for episodes (summary, items, timeline, retrieval now) and for the
review queue of held-back items. Read-only, through the public memory API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from evals.inspect_tables import Table, short, when
from memory import Episode, ItemVersion, MemoryItem, MemoryStore


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
