"""Budgets of a run, checked before every model call and every tool action."""

from __future__ import annotations

from agent.context import RunContext
from agent.llm.base import Usage
from agent.state import AgentState


def exceeded(state: AgentState, ctx: RunContext) -> str | None:
    """The name of the run-wide budget that is spent, or None."""
    lim = ctx.settings.limits
    if state.get("steps", 0) >= lim.max_steps:
        return f"max_steps: {lim.max_steps} steps taken"
    used = state.get("usage") or Usage()
    if used.total_tokens >= lim.max_tokens:
        return f"max_tokens: {used.total_tokens} of {lim.max_tokens} tokens used"
    if ctx.elapsed() >= lim.max_wall_s:
        return f"max_wall_s: {ctx.elapsed():.0f} s of {lim.max_wall_s:.0f} s elapsed"
    return None
