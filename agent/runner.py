"""Run a task with a wired agent: durable (checkpoints, agent/run_state.py), resumable,
streamed as events.

agent = build_agent(settings, workspace="ws")
result = await run_task(agent, "Aggregate sales.csv by region into totals.csv")
result = await resume_task(agent, result.thread_id)   # after a crash
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.build import Agent
from agent.context import RunContext
from agent.llm.base import Usage
from agent.run_state import check_resumable, open_run_state, save_run_info
from agent.state import AgentState, Outcome, SubtaskState, records_to_json

Durability = Literal["sync", "async", "exit"]
Approver = Callable[[dict[str, Any]], bool | Awaitable[bool]]
EventSink = Callable[["Event"], None]


class Event(BaseModel):
    """One thing that happened in a run (``--json`` prints one per line)."""

    event: str
    thread_id: str
    data: dict[str, Any] = Field(default_factory=dict)


class RunResult(BaseModel):
    """How a run ended."""

    thread_id: str
    task: str
    outcome: Outcome | Literal["interrupted"]
    final_answer: str = ""
    stop_reason: str | None = None
    steps: int = 0
    usage: Usage = Field(default_factory=Usage)
    elapsed_s: float = 0.0
    subtasks: list[SubtaskState] = Field(default_factory=list)
    items_used: list[str] = Field(default_factory=list)
    items_written: list[str] = Field(default_factory=list)
    run_dir: Path | None = None

    @property
    def achieved(self) -> bool:
        """Whether the task was achieved (every subtask verified)."""
        return self.outcome == "achieved"


def new_thread_id() -> str:
    """A sortable, unique thread id."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


async def run_task(
    agent: Agent,
    task: str,
    *,
    thread_id: str | None = None,
    approve: Approver | None = None,
    on_event: EventSink | None = None,
    learn: bool | None = None,
    durability: Durability = "async",
) -> RunResult:
    """Run ``task`` to its end; tools needing approval are denied unless ``approve`` says yes."""
    thread_id = thread_id or new_thread_id()
    run_dir = agent.runs_dir / thread_id
    run_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "thread_id": thread_id,
        "task": task,
        "workspace": str(agent.workspace),
        "memory": str(agent.memory_path) if agent.memory_path else None,
        "memory_backend": agent.settings.memory.backend,
        "profile": agent.profile_name,
        "learn": agent.learn if learn is None else learn,
        "created": time.time(),
    }
    save_run_info(agent.settings, run_dir, info)
    state: AgentState = {
        "task": task,
        "episode_id": thread_id,
        "learn": bool(info["learn"]),
        "replans": 0,
        "current": 0,
    }
    _emit(on_event, "start", thread_id, {"task": task, "run_dir": str(run_dir)})
    return await _drive(agent, thread_id, state, approve, on_event, durability, elapsed=0.0)


async def resume_task(
    agent: Agent,
    thread_id: str,
    *,
    approve: Approver | None = None,
    on_event: EventSink | None = None,
    durability: Durability = "async",
) -> RunResult:
    """Continue a run from its last checkpoint; recorded tool actions are not run again."""
    run_dir = agent.runs_dir / thread_id
    check_resumable(agent.settings, run_dir, thread_id)
    run_dir.mkdir(parents=True, exist_ok=True)  # on another machine: a folder for artifacts
    _emit(on_event, "resume", thread_id, {"run_dir": str(run_dir)})
    return await _drive(agent, thread_id, None, approve, on_event, durability, elapsed=None)


async def _drive(
    agent: Agent,
    thread_id: str,
    state: AgentState | None,
    approve: Approver | None,
    on_event: EventSink | None,
    durability: Durability,
    *,
    elapsed: float | None,
) -> RunResult:
    from langgraph.types import Command

    from agent.graph import build_graph

    run_dir = agent.runs_dir / thread_id
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}, "recursion_limit": 10_000}
    tools = agent.tools or await agent.tool_context().__aenter__()
    try:
        async with open_run_state(agent.settings, run_dir, thread_id) as (saver, journal):
            graph = build_graph(checkpointer=saver)
            task = state["task"] if state is not None else ""
            if elapsed is None:
                snapshot = await graph.aget_state(config)
                elapsed = float(snapshot.values.get("elapsed_s", 0.0))
                task = str(snapshot.values.get("task", ""))
            registry, settings, spec_cache = with_mcp_tools(agent, tools)
            registry, spec_cache = with_task_tools(registry, spec_cache, tools, task)
            for line in tools.mcp.warnings if tools.mcp is not None else ():
                _emit(on_event, "warning", thread_id, {"message": line})
            ctx = RunContext(
                llm=agent.llm,
                registry=registry,
                tools=tools,
                memory=agent.memory,
                settings=settings,
                profile=agent.profile,
                journal=journal,
                learn=agent.learn,
                elapsed_before=elapsed,
                spec_cache=spec_cache,
            )
            inp: Any = state
            while True:
                async for chunk in graph.astream(
                    inp, config, context=ctx, stream_mode="updates", durability=durability
                ):
                    for node, update in chunk.items():
                        if node != "__interrupt__" and update:
                            for kind, data in node_events(node, update):
                                _emit(on_event, kind, thread_id, data)
                snapshot = await graph.aget_state(config)
                if not snapshot.interrupts:
                    break
                answers = {}
                for intr in snapshot.interrupts:
                    ok = await _ask(approve, intr.value)
                    _emit(on_event, "approval", thread_id, {**intr.value, "approved": ok})
                    answers[intr.id] = {"approved": ok}
                inp = Command(resume=answers)
            values: AgentState = snapshot.values
    finally:
        if tools is not agent.tools:
            await tools.aclose()
    result = _result(thread_id, values, run_dir, interrupted=bool(snapshot.next))
    _emit(on_event, "done", thread_id, result.model_dump(mode="json", exclude={"subtasks"}))
    return result


def with_task_tools(
    registry: Any, spec_cache: dict[Any, Any], tools: Any, task: str
) -> tuple[Any, dict[Any, Any]]:
    """The registry plus the mail tools when this run has a mail account: ``[tools.mail]``,
    else the one the task's list of apps gives (agent.apps.mail_account), set on the tool
    context for this run only (a context may serve several runs); and ``browser_fill`` when
    the task gives web apps and the registry is the compact set (a registry chosen by the
    caller is left as it is)."""
    from agent.apps import mail_account, web_apps
    from agent.build import COMPACT_TOOLS
    from tools import ToolRegistry

    tools.mail = tools.settings.mail or mail_account(task)
    extra = []
    if tools.mail is not None and "mail_send" not in registry:
        from tools.mail import MAIL_TOOLS

        extra += MAIL_TOOLS
    compact = set(registry.names) <= set(COMPACT_TOOLS)  # a small model's set (agent.build)
    if compact and "browser_goto" in registry and "browser_fill" not in registry and web_apps(task):
        # the compact set leaves it out; a task with web apps gets it (forms by label)
        from tools.browser.forms import FORM_TOOLS

        extra += FORM_TOOLS
    if not extra:
        return registry, spec_cache
    return ToolRegistry([*registry, *extra]), {}  # a fresh cache: other tools


def with_mcp_tools(agent: Agent, tools: Any) -> tuple[Any, Any, dict[Any, Any]]:
    """The agent's registry, settings and schema cache, plus the tools of the MCP servers
    running in ``tools`` (its tool context): each MCP tool not configured read-only is
    added to ``approval_tools``."""
    hub = getattr(tools, "mcp", None)
    if hub is None:
        return agent.registry, agent.settings, agent.spec_cache
    from tools import ToolRegistry

    extra = hub.tools(taken=agent.registry.names)
    if not extra:
        return agent.registry, agent.settings, agent.spec_cache
    approval = [*agent.settings.approval_tools, *hub.approval_names(extra)]
    settings = agent.settings.model_copy(update={"approval_tools": list(dict.fromkeys(approval))})
    return ToolRegistry([*agent.registry, *extra]), settings, {}  # a fresh cache: other tools


async def _ask(approve: Approver | None, request: dict[str, Any]) -> bool:
    if approve is None:
        return False  # non-interactive runs deny by default
    answer = approve(request)
    if inspect.isawaitable(answer):
        answer = await answer
    return bool(answer)


def _result(thread_id: str, v: AgentState, run_dir: Path, *, interrupted: bool) -> RunResult:
    return RunResult(
        thread_id=thread_id,
        task=v.get("task", ""),
        outcome="interrupted" if interrupted else (v.get("outcome") or "failed"),
        final_answer=v.get("final_answer", ""),
        stop_reason=v.get("stop_reason"),
        steps=v.get("steps", 0),
        usage=v.get("usage") or Usage(),
        elapsed_s=v.get("elapsed_s", 0.0),
        subtasks=v.get("plan") or [],
        items_used=v.get("items_in_context", []),
        items_written=v.get("items_written", []),
        run_dir=run_dir,
    )


def node_events(node: str, update: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events one node's update stands for."""
    out: list[tuple[str, dict[str, Any]]] = []
    if node == "recall" and update.get("recalled"):
        items = [{"id": i.id, "level": i.level, "title": i.title} for i in update["recalled"]]
        out.append(("recall", {"items": items}))
    if node == "plan" and "plan" in update:
        out.append(("plan", {"subtasks": [s.model_dump(mode="json") for s in update["plan"]]}))
    if node == "execute" and update.get("subtask_items"):
        items = [{"id": i.id, "title": i.title} for i in update["subtask_items"]]
        out.append(("recall", {"items": items, "subtask": True}))
    for rec in records_to_json(update.get("trajectory", [])):
        kind = {"model": "step", "tool": "observation", "note": "note", "reflection": "reflection"}[
            rec["kind"]
        ]
        out.append((kind, rec))
    if node == "distill" and update.get("items_written"):
        out.append(("learned", {"items": update["items_written"]}))
    if update.get("stop_reason"):
        out.append(("stopped", {"reason": update["stop_reason"]}))
    return out


def _emit(sink: EventSink | None, kind: str, thread_id: str, data: dict[str, Any]) -> None:
    if sink is not None:
        sink(Event(event=kind, thread_id=thread_id, data=data))
