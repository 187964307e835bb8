"""The loop: recall -> plan -> execute <-> act -> reflect -> (next | retry | replan) -> distill."""

from __future__ import annotations

import copy
import functools
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import ensure_valid_checkpointer

from agent.context import RunContext
from agent.distill import distill
from agent.executor import act, execute
from agent.planner import plan
from agent.recall import recall
from agent.reflector import reflect
from agent.state import AgentState, attempt_records, current_subtask


def after_plan(state: AgentState) -> str:
    """Work on the plan, unless a budget is already spent."""
    return "distill" if state.get("stop_reason") else "execute"


def after_execute(state: AgentState) -> str:
    """Tool calls go to act; a re-ask loops; a final answer or a step limit goes to reflect.

    When a budget stops the run, an attempt that did something is still reflected on.
    """
    if state.get("stop_reason"):
        sub = current_subtask(state)
        if sub is not None and attempt_records(state, sub.id, sub.attempts):
            return "reflect"
        return "distill"
    last = state["trajectory"][-1]
    if last.kind == "model" and last.tool_calls:
        return "act"
    if last.kind == "note" and last.purpose == "reask":
        return "execute"
    return "reflect"


def after_reflect(state: AgentState) -> str:
    """Next subtask or retry (execute), replan, or the end (distill)."""
    if state.get("stop_reason"):
        return "distill"
    if state.get("replan"):
        return "plan"
    sub = current_subtask(state)
    return "distill" if sub is None or sub.status == "failed" else "execute"


def build_graph(*, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    """The compiled agent graph; its nodes get a :class:`RunContext` as runtime context.

    Compiling inspects every node's code again (~5 ms, half a step's framework cost):
    the graph is compiled once, and each run gets a shallow copy with its own
    checkpointer (what ``compile(checkpointer=...)`` would differ in; LangGraph applies
    its serialisation allowlist to the checkpointer when a run resolves it).
    """
    graph = copy.copy(_compiled())
    graph.checkpointer = ensure_valid_checkpointer(checkpointer)
    return graph


@functools.cache
def _compiled() -> Any:
    return _wiring().compile()


@functools.cache
def _wiring() -> StateGraph[AgentState, RunContext, AgentState, AgentState]:
    # built once: adding nodes inspects their source, which costs more than compiling
    g = StateGraph(AgentState, context_schema=RunContext)
    for node in (recall, plan, execute, act, reflect, distill):
        g.add_node(node.__name__, node)
    g.add_edge(START, "recall")
    g.add_edge("recall", "plan")
    g.add_conditional_edges("plan", after_plan, ["execute", "distill"])
    g.add_conditional_edges("execute", after_execute, ["act", "execute", "reflect", "distill"])
    g.add_edge("act", "execute")
    g.add_conditional_edges("reflect", after_reflect, ["execute", "plan", "distill"])
    g.add_edge("distill", END)
    return g
