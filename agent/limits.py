"""Budgets of a run, checked before every model call and every tool action."""

from __future__ import annotations

from agent.context import RunContext
from agent.llm.base import Usage
from agent.state import AgentState


def exceeded(state: AgentState, ctx: RunContext, *, learning: bool = False) -> str | None:
    """The name of the run-wide budget that is spent, or None.

    Acting (plan, execute, act) stops ``learn_reserve`` of the wall clock early; learning
    (reflect, distill) may use the whole of it, and is not bound by the step budget (its
    model calls are not steps).
    """
    lim = ctx.settings.limits
    if not learning and state.get("steps", 0) >= lim.max_steps:
        return f"max_steps: {lim.max_steps} steps taken"
    used = state.get("usage") or Usage()
    if used.total_tokens >= lim.max_tokens:
        return f"max_tokens: {used.total_tokens} of {lim.max_tokens} tokens used"
    wall = lim.max_wall_s if learning else lim.max_wall_s * (1 - lim.learn_reserve)
    if ctx.elapsed() >= wall:
        kept = (
            ""
            if learning or not lim.learn_reserve
            else f" ({lim.max_wall_s - wall:.0f} s kept for learning)"
        )
        return f"max_wall_s: {ctx.elapsed():.0f} s of {lim.max_wall_s:.0f} s elapsed{kept}"
    return None


def max_subtasks(ctx: RunContext) -> int:
    """The run's cap on subtasks: ``limits.max_subtasks``, lowered by the profile's own cap."""
    cap = ctx.settings.limits.max_subtasks
    return cap if ctx.profile.max_subtasks is None else min(cap, ctx.profile.max_subtasks)
