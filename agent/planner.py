"""Plan: the task (plus retrieved experience) becomes an ordered list of subtasks.

Replanning keeps the subtasks that are done and rewrites only the rest. A plan longer
than the run's cap is folded, not cut: the overflow joins the last subtask kept.
"""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from agent import prompts
from agent.context import RunContext
from agent.errors import StructuredOutputError
from agent.limits import exceeded, max_subtasks
from agent.llm.base import Message
from agent.models import Plan, Subtask
from agent.recall import render_experience
from agent.state import AgentState, SubtaskState

MAX_TOKENS = 600  # bounds a small model that would otherwise ramble inside its JSON
TASK_DONE = "(see the task)"  # a one-subtask plan: the task itself says when it is done


def planner_messages(state: AgentState, ctx: RunContext) -> list[Message]:
    """The planner's prompt (a pure function of the state, snapshot-tested)."""
    replan = ""
    plan = state.get("plan") or []
    if state.get("replan"):
        done = [s for s in plan if s.status == "done"]
        failed = [s for s in plan if s.status == "failed"]
        lines = ["Already done (keep, do not repeat):"]
        lines += [f"- {s.goal} -> {s.result[:200]}" for s in done] or ["- nothing yet"]
        for s in failed:
            lines.append(f"Failed: {s.goal}\nWhy: {s.analysis[:500]}")
        lines.append("Plan only the remaining subtasks, a different way.")
        replan = "\n".join(lines) + "\n"
    room = _room(plan, ctx)
    return prompts.render(
        "planner",
        task=state["task"],
        tools=", ".join(ctx.registry.names),
        experience=render_experience(state.get("recalled", [])),
        replan=replan,
        cap=f"{room} subtask" + "s" * (room != 1),
    )


def _room(plan: list[SubtaskState], ctx: RunContext) -> int:
    """How many subtasks the planner may add: the run's cap less the subtasks done."""
    done = sum(1 for s in plan if s.status == "done")
    return max(max_subtasks(ctx) - done, 1)


def _fold(subtasks: list[Subtask], room: int) -> list[Subtask]:
    """At most ``room`` subtasks: the overflow joins the last one kept, so no work is lost."""
    if len(subtasks) <= room:
        return subtasks
    kept, rest = subtasks[: room - 1], subtasks[room - 1 :]
    goals = [s.goal.strip().rstrip(".") for s in rest[:-1]] + [rest[-1].goal.strip()]
    return [*kept, Subtask(goal="; then ".join(goals), done_when=rest[-1].done_when)]


async def plan(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: make (or remake) the plan."""
    ctx = runtime.context
    stop = exceeded(state, ctx)
    if stop:
        return {"stop_reason": stop, "elapsed_s": ctx.elapsed()}
    update: dict[str, Any] = {}
    done = [s for s in state.get("plan") or [] if s.status == "done"]
    room = _room(state.get("plan") or [], ctx)
    new: list[Subtask] = []
    if room > 1 or done or state.get("replan"):
        # a first plan of one subtask is the task itself: no call is needed to say so
        try:
            reply = await ctx.llm.complete(
                planner_messages(state, ctx), output=Plan, max_tokens=MAX_TOKENS
            )
            update["usage"] = reply.usage
            new = reply.parsed.subtasks if reply.parsed else []
            new = [s for s in new if len(re.findall(r"\w+", s.goal)) >= 2]  # drop "..." goals
        except StructuredOutputError:
            pass  # the model never produced a plan: do the task as one subtask
    new = _fold(new, room)
    if not new:
        new = [Subtask(goal=state["task"], done_when=TASK_DONE)]
    elif len(new) == 1 and not done:
        # a one-step plan only rephrases the task (or folds the model's steps into one), and
        # small models distort it: keep the task
        new = [Subtask(goal=state["task"], done_when=new[0].done_when)]
    first_id = max((s.id for s in state.get("plan") or []), default=-1) + 1
    subtasks = [*done] + [
        SubtaskState(index=len(done) + i, id=first_id + i, goal=s.goal, done_when=s.done_when)
        for i, s in enumerate(new)
    ]
    update |= {
        "plan": subtasks,
        "current": len(done),
        "replan": False,
        "replans": state.get("replans", 0) + (1 if state.get("replan") else 0),
        "elapsed_s": ctx.elapsed(),
    }
    return update
