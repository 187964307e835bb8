"""Distill: strategic lessons from the whole episode, then archive the episode.

The model is asked only when there is something to learn from (a retry, a failure, a
replan, a stop): an episode in which every subtask passed on its first attempt already
left its SOPs through the reflector, and a small local model is spared one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from agent import prompts
from agent.context import RunContext
from agent.errors import StructuredOutputError
from agent.learn import echoes_untrusted, remember, source_trust
from agent.limits import exceeded
from agent.llm.base import Message, Usage
from agent.models import Distillation, MemoryEdit
from agent.state import AgentState, Outcome, SubtaskState, records_to_json
from memory import gate


def outcome_of(state: AgentState) -> Outcome:
    """achieved when every subtask was verified done; stopped when a budget ran out."""
    plan = state.get("plan") or []
    if plan and all(s.status == "done" for s in plan):
        return "achieved"
    return "stopped" if state.get("stop_reason") else "failed"


def final_answer(state: AgentState) -> str:
    """The executor's last answer on the last subtask that was done."""
    done = [s for s in state.get("plan") or [] if s.status == "done"]
    return done[-1].result if done else ""


def _subtask_lines(state: AgentState, detail: Callable[[SubtaskState], str]) -> list[str]:
    """One line per subtask (status, attempts, goal, then ``detail``), and why it stopped."""
    lines = [
        f"{s.index + 1}. [{s.status}, {s.attempts + 1} attempt(s)] {s.goal}{detail(s)}"
        for s in state.get("plan") or []
    ]
    if state.get("stop_reason"):
        lines.append(f"Stopped: {state['stop_reason']}")
    return lines


def distiller_messages(state: AgentState, outcome: str) -> list[Message]:
    """The distiller's prompt (snapshot-tested)."""
    lines = _subtask_lines(
        state, lambda s: f"\n   reflection: {s.analysis[:400]}" if s.analysis else ""
    )
    return prompts.render(
        "distiller", task=state["task"], outcome=outcome, subtasks="\n".join(lines)
    )


def _outcome_detail(s: SubtaskState) -> str:
    if s.status == "done" and s.result:
        return f" -> {' '.join(s.result.split())[:160]}"
    return f"; why not: {' '.join(s.analysis.split())[:240]}" if s.analysis else ""


def episode_summary(state: AgentState) -> str:
    """What was tried and how it went, for the episodic item a later, similar task sees.

    Lines that look like injected instructions, or that repeat what a tool read (a URL, six
    words in a row) and the task did not say, are left out: a page cannot speak through
    the record of an episode.
    """
    records = state.get("trajectory", [])
    return "\n".join(
        line
        for line in _subtask_lines(state, _outcome_detail)
        if not gate.looks_injected(line) and not echoes_untrusted(line, records, state["task"])
    )


def worth_distilling(state: AgentState) -> bool:
    """Whether the episode had a difficulty a lesson could come from."""
    plan = state.get("plan") or []
    return bool(
        state.get("replans")
        or state.get("stop_reason")
        or any(s.attempts or s.status != "done" for s in plan)
    )


async def distill(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: learn strategic lessons, archive the episode, set the outcome."""
    ctx = runtime.context
    outcome = outcome_of(state)
    update: dict[str, Any] = {"outcome": outcome, "final_answer": final_answer(state)}
    if ctx.memory is None or not state.get("learn", True):
        return update | {"elapsed_s": ctx.elapsed()}
    # one write for the retrieval counts of everything that was in context (not one per recall)
    ctx.memory.mark_retrieved(list(state.get("items_in_context", [])))
    usage, written = Usage(), list[str]()
    records = state.get("trajectory", [])
    trust = source_trust(records, ctx)
    budget_left = exceeded(state, ctx, learning=True) is None
    if worth_distilling(state) and budget_left:
        try:
            reply = await ctx.llm.complete(
                distiller_messages(state, outcome), output=Distillation, max_tokens=500
            )
            usage = reply.usage
            lessons = reply.parsed.lessons if reply.parsed else []
        except StructuredOutputError:
            lessons = []
        edits = [
            MemoryEdit(level="strategic", scope=x.scope or "global", title=x.title,
                       content=x.content, when_to_use=x.when_to_use)
            for x in lessons
        ]  # fmt: skip
        written = remember(
            state,
            ctx,
            edits,
            achieved=outcome == "achieved",
            trust=trust,
            records=records,
            actor="distiller",
        )
    total = (state.get("usage") or Usage()) + usage
    ctx.memory.archive_episode(
        task=state["task"],
        outcome="success" if outcome == "achieved" else outcome,
        score=1.0 if outcome == "achieved" else 0.0,
        usage=total.model_dump(),
        trajectory=records_to_json(records),
        items_used=list(state.get("items_in_context", [])),
        items_written=[*state.get("items_written", []), *written],
        episode_id=state.get("episode_id"),
        summary=episode_summary(state),
        trust=trust,
    )
    return update | {"usage": usage, "items_written": written, "elapsed_s": ctx.elapsed()}
