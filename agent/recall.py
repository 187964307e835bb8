"""Recall: put the right experience into context, and remember which items went in.

Strategic lessons are always on (top by utility, within a token budget); procedural SOPs
come as an index of titles plus the full text of those most similar to the task and to
the current subtask; tool tips are attached to the tools they describe; the record of the
most similar past episode (what was tried, what went wrong) comes with the task. Skills
similar to a subtask are offered to the executor as tools (``skill_<name>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import RunContext
from agent.skills import Skill, abstract, abstract_use, parse_skill
from agent.state import AgentState, ContextItem
from memory.retrieval import estimate_tokens

INDEX_SIZE = 12
FULL_SOPS = 2
PAST_EPISODES = 1
EPISODE_MIN_SIMILARITY = 0.6  # cosine of task texts: the same or a closely related task
SKILLS = 3  # offered as tools at most per subtask: each costs a catalogue line
SKILL_MIN_SIMILARITY = 0.5  # cosine of the abstracted goal and skill descriptions


def _item(hit_or_item: Any, level: str | None = None, tool: str | None = None) -> ContextItem:
    item = getattr(hit_or_item, "item", hit_or_item)
    parts = [item.content]
    if getattr(item, "when_to_use", ""):
        parts.insert(0, f"When: {item.when_to_use}")
    return ContextItem(
        id=str(item.id),
        level=level or str(item.level),
        title=item.title,
        text="\n".join(parts),
        tool=tool,
    )


def _within(items: Iterable[ContextItem], budget: int) -> list[ContextItem]:
    out: list[ContextItem] = []
    used = 0
    for it in items:
        cost = estimate_tokens(it.title + it.text)
        if out and used + cost > budget:
            break
        out.append(it)
        used += cost
    return out


def recall_for_task(
    store: Any, task: str, tool_names: list[str], *, budgets: Any
) -> list[ContextItem]:
    """Strategic lessons, SOP index and best SOPs for the task, and tool tips."""
    strategic = [
        _item(h, "strategic")
        for h in store.strategic(budget_tokens=budgets.strategic_budget_tokens)
    ]
    sops = [_item(h, "procedural") for h in store.search(task, level="procedural", k=INDEX_SIZE)]
    full = _within(sops[:FULL_SOPS], budgets.procedural_budget_tokens)
    index = [ContextItem(id=s.id, level="index", title=s.title, text="") for s in sops[len(full) :]]
    tips: list[ContextItem] = []
    for name, items in store.tool_tips(tool_names).items():
        tips.extend(_item(i, "tool", tool=name) for i in items)
    episodes = [
        _item(h, "episodic")
        for h in store.search(task, level="episodic", k=PAST_EPISODES)
        if (h.vector_score or 0.0) >= EPISODE_MIN_SIMILARITY
    ]
    return [
        *strategic,
        *full,
        *index,
        *_within(tips, budgets.tool_tip_budget_tokens),
        *_within(episodes, budgets.episodic_budget_tokens),
    ]


def recall_for_subtask(
    store: Any, goal: str, known: set[str], *, budgets: Any
) -> list[ContextItem]:
    """Full SOPs similar to the subtask that are not already in context."""
    hits = store.search(goal, level="procedural", k=FULL_SOPS + len(known))
    fresh = [_item(h, "procedural") for h in hits if str(h.item.id) not in known]
    return _within(fresh[:FULL_SOPS], budgets.procedural_budget_tokens)


def recall_skills(
    store: Any, goal: str, *, inputs: Iterable[str] = (), columns: Iterable[str] = ()
) -> list[ContextItem]:
    """Skills for the subtask, offered to the executor as tools (at most :data:`SKILLS`).

    Candidates come from a search (active skills, and unverified ones by their words);
    they are kept when the goal and the skill's ``when_to_use``, both with their files and
    columns replaced by their kind (``inputs`` are the goal's existing files, ``columns``
    their column names), are at least :data:`SKILL_MIN_SIMILARITY` alike.
    """
    if not store.list_items(level="skill", limit=1):
        return []  # no skill at all: no searches
    query = abstract(goal, inputs=inputs, columns=columns)
    hits = store.search(query, level="skill", k=2 * SKILLS)
    hits += store.search(goal, level="skill", k=2, status="candidate")
    found: dict[str, tuple[str, str, Skill]] = {}
    for h in hits:
        skill = parse_skill(h.item.content)
        if skill is not None and skill.tool_name not in found:
            found[skill.tool_name] = (str(h.item.id), h.item.title, skill)
    if not found:
        return []
    vectors = store.embedder.embed([query, *(abstract_use(s) for _, _, s in found.values())])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vectors[1:] @ vectors[0]
    ranked = sorted(zip(sims, found.values(), strict=True), key=lambda p: -p[0])
    return [
        ContextItem(id=i, level="skill", title=t, text=s.model_dump_json(), tool=s.tool_name)
        for sim, (i, t, s) in ranked[:SKILLS]
        if sim >= SKILL_MIN_SIMILARITY
    ]


def skill_specs(items: Iterable[ContextItem]) -> list[dict[str, Any]]:
    """The tool schemas of the skills among ``items``."""
    specs = []
    for it in items:
        skill = parse_skill(it.text) if it.level == "skill" else None
        if skill is not None:
            specs.append(skill.spec())
    return specs


def tips_by_tool(items: Iterable[ContextItem]) -> dict[str, list[str]]:
    """Tool tips grouped by tool name, for ``registry.openai_schemas(tips=...)``."""
    out: dict[str, list[str]] = {}
    for it in items:
        if it.level == "tool" and it.tool:
            out.setdefault(it.tool, []).append(f"{it.title}: {it.text}")
    return out


def render_experience(items: Iterable[ContextItem]) -> str:
    """Experience as prompt text: lessons, relevant procedures, the index of other SOPs."""
    items = list(items)
    lessons = [i for i in items if i.level == "strategic"]
    sops = [i for i in items if i.level == "procedural"]
    index = [i for i in items if i.level == "index"]
    episodes = [i for i in items if i.level == "episodic"]
    skills = [sk for i in items if i.level == "skill" and (sk := parse_skill(i.text))]
    parts: list[str] = []
    if lessons:
        parts.append(
            "Lessons from experience:\n" + "\n".join(f"- {i.title}: {i.text}" for i in lessons)
        )
    if sops:
        parts.append(
            "Procedures that worked before:\n" + "\n".join(f"## {i.title}\n{i.text}" for i in sops)
        )
    if index:
        parts.append("Other known procedures: " + "; ".join(i.title for i in index))
    if skills:
        parts.append(
            "Skills (tools that did this kind of task before; call one as a tool, not from "
            "code, with this task's files and columns, then check the result):\n"
            + "\n".join(
                f"- tool {sk.tool_name}, arguments {', '.join(p.name for p in sk.params)}: "
                f"{sk.when_to_use}"
                for sk in skills
            )
        )
    if episodes:
        parts.append(
            "Past attempts at similar tasks (a record, not instructions):\n"
            + "\n".join(f"## {i.title}\n{i.text}" for i in episodes)
        )
    return "\n".join(parts) + ("\n" if parts else "")


def credited_ids(state: AgentState) -> list[str]:
    """Ids of the items that shaped the current attempt (the index of titles excluded)."""
    items = [*state.get("recalled", []), *state.get("subtask_items", [])]
    return list(dict.fromkeys(i.id for i in items if i.level not in ("index", "episodic")))


async def recall(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: retrieve experience for the task."""
    ctx = runtime.context
    if ctx.memory is None:
        return {"recalled": []}
    items = recall_for_task(
        ctx.memory, state["task"], ctx.registry.names, budgets=ctx.settings.memory
    )
    return {"recalled": items, "items_in_context": [i.id for i in items]}
