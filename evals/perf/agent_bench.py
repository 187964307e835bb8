"""The agent framework's own cost per step, against a bare loop and LangGraph's prebuilt ReAct agent.

All three drive the same scripted replies and the same real tools (``file_read`` through
the tool registry). Time spent inside the model and inside the tools is measured and
subtracted, so what remains is each framework's own cost: prompt building, state
updates, checkpoints, routing, and for journeyman also recall from a memory of 10k items,
reflection and distillation bookkeeping, the action journal and the memory writes.

    python -m evals.perf.agent_bench [--steps 10] [--repeats 5] [--items 10000]

Ratios are measured in one run on one machine (never bare absolute figures to compare
across machines). Goal: journeyman <= 1.5 x the prebuilt ReAct agent (b).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agent.llm import FunctionLLM
from agent.llm.base import Message, ToolSpec
from agent.models import Distillation, Plan, Reflection


class Clock:
    """Seconds spent inside the models (LLM and embedder) and inside the tools."""

    def __init__(self) -> None:
        self.model = 0.0
        self.tools = 0.0


CLOCK = Clock()  # where the store's embedder adds its time (it lives across runs)
MEMORY = Clock()  # time inside memory-store calls (``model`` holds it), embedding included


class TimedStore:
    """Wraps the memory store: the time of every call is added to ``MEMORY.model``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def timed(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return attr(*a, **kw)
            finally:
                MEMORY.model += time.perf_counter() - t

        return timed


class TimedEmbedder:
    """Wraps the store's embedder: embedding is model inference, timed like the LLM."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Any) -> Any:
        t = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            CLOCK.model += time.perf_counter() - t


def timed_registry(clock: Clock) -> Any:
    """The file tools, with the time of every call added to ``clock.tools``."""
    from tools.files import FILE_TOOLS
    from tools.registry import ToolRegistry

    class Timed(ToolRegistry):
        async def call(self, name: str, arguments: Any, ctx: Any) -> Any:
            t = time.perf_counter()
            try:
                return await super().call(name, arguments, ctx)
            finally:
                clock.tools += time.perf_counter() - t

    return Timed(FILE_TOOLS)


def script_reply(steps: int, subtasks: int) -> Any:
    """Replies as a function of the conversation: ``steps`` file reads in all, then answers."""
    per = max(steps // subtasks, 1)

    def reply(messages: list[Message], tools: list[ToolSpec] | None, output: Any) -> Any:
        if output is Plan:
            return {"subtasks": [{"goal": f"read data part {i + 1}"} for i in range(subtasks)]}
        if output is Reflection:
            return {"achieved": True, "evidence": "read"}
        if output is Distillation:
            return {"lessons": []}
        done = sum(1 for m in messages if m.role == "tool")
        if done >= per:
            return {"final_answer": "read it all"}
        # a different part each time: the same read repeated is a loop journeyman ends
        part = {"path": "data.txt", "start_line": 4 * done + 1, "end_line": 4 * done + 4}
        return {"tool": "file_read", "arguments": part}

    return reply


class TimedLLM:
    """Wraps a model; adds the time of each call to ``clock.model``."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self.inner, self.clock = inner, clock

    @property
    def name(self) -> str:
        return str(self.inner.name)

    async def complete(self, messages: list[Message], **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await self.inner.complete(messages, **kw)
        finally:
            self.clock.model += time.perf_counter() - t


def build_memory(path: Path, n: int) -> Any:
    """A store with ``n`` items (random unit vectors: the cost, not the relevance, matters)."""
    from memory import MemoryStore

    store = MemoryStore.open(path)
    have = store.stats().get("items", {})
    total = sum(have.values()) if isinstance(have, dict) else int(have or 0)
    if total < n:
        rng = np.random.default_rng(0)
        tools = ["file_read", "file_write", "file_list", "file_grep", "shell_run"]
        for start in range(total, n, 1000):
            count = min(1000, n - start)
            recs = []
            for i in range(start, start + count):
                level = "strategic" if i % 10 == 0 else "tool" if i % 50 == 1 else "procedural"
                scope = f"tool/{tools[(i // 50) % 5]}" if level == "tool" else f"app/x{i % 50}"
                recs.append(
                    {
                        "level": level,
                        "scope": "global" if level == "strategic" else scope,
                        "title": f"Item {i}: how to handle case {i % 97} of kind {i % 13}",
                        "content": f"Step one for case {i}. Step two: check result {i % 7}.",
                    }
                )
            vecs = rng.normal(size=(count, 384)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            store.add_many(recs, vectors=vecs)
    store._embedder = TimedEmbedder(store.embedder)  # bench only: time the embedding model
    return store


async def bare_loop(ws: Path, steps: int, clock: Clock) -> int:
    """(a) The floor: a plain loop calling the same model and tools, no persistence."""
    from tools import ToolContext

    registry = timed_registry(clock)
    llm = TimedLLM(FunctionLLM(script_reply(steps, 1)), clock)
    specs = [ToolSpec(**s) for s in registry.openai_schemas()]
    messages = [Message.system("You are an agent."), Message.user("Read data.txt")]
    n = 0
    async with ToolContext(ws) as ctx:
        while True:
            reply = await llm.complete(messages, tools=specs)
            messages.append(reply.to_message())
            if not reply.tool_calls:
                return n
            for c in reply.tool_calls:
                res = await registry.call(c.name, c.arguments, ctx)
                messages.append(Message.tool(res.for_model(), tool_call_id=c.id, name=c.name))
                n += 1


async def prebuilt_react(ws: Path, steps: int, clock: Clock, db: Path) -> int:
    """(b) LangGraph's prebuilt ReAct agent, same replies and tools, SQLite checkpoints."""
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import StructuredTool
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.prebuilt import create_react_agent

    from tools import ToolContext

    registry = timed_registry(clock)
    inner = FunctionLLM(script_reply(steps, 1))

    class Scripted(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **kw: Any) -> Any:
            return self

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            # the prebuilt agent is driven with ainvoke only; a sync call would be a bench bug
            raise NotImplementedError("the bench's scripted chat model is async only")

        async def _agenerate(
            self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            t = time.perf_counter()
            ours = [
                Message.tool(str(m.content), tool_call_id=m.tool_call_id)
                if isinstance(m, ToolMessage)
                else Message.user(str(m.content))
                for m in messages
            ]
            reply = await inner.complete(ours, tools=specs)
            calls = [{"name": c.name, "args": c.arguments, "id": c.id} for c in reply.tool_calls]
            msg = AIMessage(content=reply.text, tool_calls=calls)
            clock.model += time.perf_counter() - t
            return ChatResult(generations=[ChatGeneration(message=msg)])

    specs = [ToolSpec(**s) for s in registry.openai_schemas()]
    async with ToolContext(ws) as ctx:

        def lc_tool(t: Any) -> StructuredTool:
            async def run(**kw: Any) -> str:
                res = await registry.call(t.name, kw, ctx)
                return str(res.for_model())

            return StructuredTool.from_function(
                coroutine=run, name=t.name, description=t.description, args_schema=t.args_model
            )

        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            graph = create_react_agent(
                Scripted(), [lc_tool(t) for t in registry], checkpointer=saver
            )
            out = await graph.ainvoke(
                {"messages": [("user", "Read data.txt")]},
                {"configurable": {"thread_id": "bench"}, "recursion_limit": 1000},
            )
    return sum(1 for m in out["messages"] if isinstance(m, ToolMessage))


async def journeyman(
    ws: Path, steps: int, clock: Clock, runs: Path, store: Any, subtasks: int
) -> int:
    """journeyman: recall from the store, plan, execute/act, reflect, distill, SQLite checkpoints."""
    from agent.build import build_agent
    from agent.config import ModelProfile, Settings
    from agent.runner import run_task

    # a scripted profile with no subtask cap of its own (the local ones do a task as one
    # subtask), whatever keys the environment holds
    settings = Settings(
        runs_dir=runs,
        model="scripted",
        profiles={"scripted": ModelProfile(model="scripted", api_key_env=None)},
    )
    llm = TimedLLM(FunctionLLM(script_reply(steps, subtasks)), clock)
    agent = build_agent(
        settings,
        llm=llm,
        memory=TimedStore(store) if store else False,
        workspace=ws,
        registry=timed_registry(clock),
    )
    result = await run_task(agent, "Read data.txt in parts")
    assert result.achieved, result
    return result.steps - subtasks  # executor steps minus one final answer per subtask


async def main(
    steps: int, repeats: int, items: int, subtasks: int, memory_dir: Path | None
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="agent-bench-"))
    ws = tmp / "ws"
    ws.mkdir()
    (ws / "data.txt").write_text("\n".join(f"row {i}, value {i * 3}" for i in range(40)))
    t = time.perf_counter()
    store = build_memory(memory_dir or tmp / "memory", items)
    print(f"memory: {items} items ready in {time.perf_counter() - t:.1f} s")
    names = {
        "a": "(a) bare loop, no persistence",
        "b": "(b) LangGraph prebuilt ReAct + SQLite",
        "j0": "journeyman, memory off",
        "j": f"journeyman, {items} items in memory",
    }
    own: dict[str, list[float]] = {k: [] for k in names}
    mem: list[float] = []
    for r in range(repeats + 1):  # the first round warms imports and caches
        for key in names:
            clock = Clock()
            CLOCK.model = MEMORY.model = 0.0
            t = time.perf_counter()
            if key == "a":
                n = await bare_loop(ws, steps, clock)
            elif key == "b":
                n = await prebuilt_react(ws, steps, clock, tmp / f"react-{r}.sqlite")
            else:
                n = await journeyman(
                    ws, steps, clock, tmp / "runs", store if key == "j" else None, subtasks
                )
            wall = time.perf_counter() - t
            assert n == steps, (key, n)
            if r:
                own[key].append((wall - clock.model - CLOCK.model - clock.tools) / steps)
                if key == "j":
                    mem.append((MEMORY.model - CLOCK.model) / steps)
    # the store applies index writes left for a batch (memory.index_batch) when it closes:
    # that work belongs to the runs, so its share per step is added to journeyman's figure
    t = time.perf_counter()
    store.close()
    closing = (time.perf_counter() - t) / ((repeats + 1) * steps)
    med = {k: statistics.median(v) for k, v in own.items()}
    med["j"] += closing
    mem_med = statistics.median(mem) + closing
    print(f"\nframework cost per step: {steps} tool steps per run, median of {repeats} runs;")
    print("model time (LLM and embedder) and tool time excluded")
    for k, label in names.items():
        print(f"  {label:42} {med[k] * 1e3:8.2f} ms")
    print(f"  {'of which memory-store calls (journeyman)':42} {mem_med * 1e3:8.2f} ms")
    print(f"  {'of which the store closing (index batch)':42} {closing * 1e3:8.2f} ms")
    b = med["b"]
    print(
        f"\njourneyman / (a) bare loop:      {med['j'] / med['a']:7.2f}x  (memory off: {med['j0'] / med['a']:.2f}x)"
    )
    print(
        f"journeyman / (b) prebuilt ReAct: {med['j'] / b:7.2f}x  (memory off: {med['j0'] / b:.2f}x;"
        f" without the memory-store calls: {(med['j'] - mem_med) / b:.2f}x)"
    )
    print(
        f"goal <= 1.5x (b): {'met' if med['j'] / b <= 1.5 else 'not met'} with memory,"
        f" {'met' if med['j0'] / b <= 1.5 else 'not met'} with memory off"
    )


def cli() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--steps", type=int, default=10, help="tool steps per run")
    p.add_argument("--subtasks", type=int, default=2, help="subtasks in journeyman's plan")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--items", type=int, default=10_000, help="items in journeyman's memory")
    p.add_argument("--memory-dir", type=Path, default=None, help="reuse a store between runs")
    a = p.parse_args()
    asyncio.run(main(a.steps, a.repeats, a.items, a.subtasks, a.memory_dir))


if __name__ == "__main__":
    cli()
