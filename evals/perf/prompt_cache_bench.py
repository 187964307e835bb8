"""The local server's prompt cache: an agent run's real requests, replayed with and without it.

Two scripted tasks of journeyman in a row (the local profile's prompts, its real tools,
memory off) are recorded as the exact chat requests its client sends; in each task: the
executor's steps, a verdict that the first attempt failed, a second attempt, the verdict on
it. Each round then
starts the llama.cpp server twice, once with ``--prompt_cache_mb 0`` and once with the
cache, and sends every recorded request in order (the server's replies are read and
dropped; the recorded run decides what comes next, so both servers get the same prompts).

    python -m evals.perf.prompt_cache_bench [--model local-small] [--rounds 2] [--steps 4]

Printed per mode: the prompt tokens the server evaluated (its log), the time of the whole
sequence, and the ratio cache / no cache (median of the rounds; both modes run in each
round, so load from elsewhere hits both alike). Replies are capped at ``--max-tokens``
tokens in both modes, which makes generation a smaller share than in a real run.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.llm.base import Message, ToolSpec
from agent.llm.openai_client import OpenAIClient
from agent.llm.replies import RawReply
from agent.models import Distillation, Plan, Reflection

TASKS = (
    "Read data.txt in parts and report the total of the amount column.",
    "Which region has the most rows in data.txt? Read it in parts and name the region.",
)
EVAL_LINE = re.compile(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens")


class Recorder(OpenAIClient):
    """The real client: its requests are kept, and a script answers them instead of a server."""

    def __init__(self, profile: Any, settings: Any, steps: int) -> None:
        super().__init__(profile, retry=settings.retry, base_url="http://127.0.0.1:9/v1")
        self.requests: list[dict[str, Any]] = []
        self.steps = steps
        self.verdicts = 0
        self._call: tuple[list[Message], Any, Any] = ([], None, None)

    async def complete(self, messages: list[Message], **kw: Any) -> Any:
        self._call = (messages, kw.get("tools"), kw.get("output"))
        return await super().complete(messages, **kw)

    async def _send(self, kwargs: dict[str, Any]) -> RawReply:
        self.requests.append(copy.deepcopy(kwargs))
        messages, tools, output = self._call
        return RawReply(text=json.dumps(self.reply(messages, tools, output)))

    def reply(self, messages: list[Message], tools: list[ToolSpec] | None, output: Any) -> Any:
        if output is Plan:
            return {"subtasks": [{"goal": "read data.txt in parts and report the total"}]}
        if output is Reflection:
            self.verdicts += 1
            if self.verdicts == 1:  # the first attempt is judged failed: a second one follows
                return {
                    "evidence": "only the first rows were read",
                    "achieved": False,
                    "analysis": "read every part of data.txt before giving the total",
                }
            return {"evidence": "every part read", "achieved": True}
        if output is Distillation:
            return {"lessons": []}
        if output is not None or not tools:
            return {}
        done = sum(1 for m in messages if m.role == "tool")
        if done >= self.steps:
            return {"final_answer": "read it all"}
        first = 8 * (done + self.verdicts * self.steps) + 1  # a second attempt reads on
        part = {"path": "data.txt", "start_line": first, "end_line": first + 7}
        return {"tool": "file_read", "arguments": part}


async def record(profile_name: str, steps: int, tmp: Path) -> list[dict[str, Any]]:
    """The requests of one scripted run with the local profile's prompts and real file tools."""
    from agent.build import build_agent
    from agent.config import Settings, resolve_profile
    from agent.runner import run_task

    settings = Settings(runs_dir=tmp / "runs", model=profile_name)
    _, profile = resolve_profile(settings, profile_name)
    ws = tmp / "ws"
    ws.mkdir()
    rows = [
        f"2026-0{1 + i % 9}-1{i % 10},region {'NESW'[i % 4]},{(i * 37) % 500}.25" for i in range(64)
    ]
    (ws / "data.txt").write_text("date,region,amount\n" + "\n".join(rows) + "\n")
    llm = Recorder(profile, settings, steps)
    agent = build_agent(settings, llm=llm, memory=False, workspace=ws)
    # two tasks on one server, as in a benchmark run: the second starts where the first ended
    for task in TASKS:
        llm.verdicts = 0
        await run_task(agent, task)
    return llm.requests


def replay(
    model_path: Path,
    alias: str,
    requests: list[dict[str, Any]],
    cache_mb: int,
    threads: int | None,
    max_tokens: int,
) -> tuple[float, int]:
    """Seconds for the whole sequence and the prompt tokens the server evaluated."""
    import httpx

    from agent.local.server import ModelServer, ServerConfig

    server = ModelServer(
        ServerConfig(model_path=model_path, alias=alias, threads=threads, prompt_cache_mb=cache_mb)
    )
    url = server.start()
    try:
        t = time.perf_counter()
        for body in requests:
            body = {
                **body,
                "model": alias,
                "max_tokens": min(body.get("max_tokens") or max_tokens, max_tokens),
            }
            resp = httpx.post(f"{url}/chat/completions", json=body, timeout=1800)
            resp.raise_for_status()
        seconds = time.perf_counter() - t
        log = server.log_tail(100_000)
    finally:
        server.stop()
    # one line per request (every chat prompt shares at least its first token with the one
    # before); the readiness probe came first, into an empty context, and wrote none
    return seconds, sum(int(m[2]) for m in EVAL_LINE.finditer(log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="local-small", help="a local profile (default: local-small)"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4, help="file reads per attempt")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cache-mb", type=int, default=1024)
    args = parser.parse_args()

    from agent.config import Settings, resolve_profile
    from agent.local.catalogue import get_model

    settings = Settings()
    _, profile = resolve_profile(settings, args.model)
    model_path = get_model(profile.local_model or "").path(settings.local.cache_dir)
    with tempfile.TemporaryDirectory(prefix="prompt-cache-bench-") as tmp:
        requests = asyncio.run(record(args.model, args.steps, Path(tmp)))
    roles = [str(r.get("messages", [{}])[0].get("content", ""))[:40] for r in requests]
    print(f"recorded {len(requests)} requests; system prompts begin:")
    for head in dict.fromkeys(roles):
        print(f"  {roles.count(head):2d} x {head!r}")
    times: dict[int, list[float]] = {0: [], args.cache_mb: []}
    tokens: dict[int, int] = {}
    for r in range(args.rounds):
        for mb in list(times)[:: 1 if r % 2 == 0 else -1]:  # each mode first in turn
            seconds, evaluated = replay(
                model_path, profile.model, requests, mb, args.threads, args.max_tokens
            )
            times[mb].append(seconds)
            tokens[mb] = evaluated
            print(
                f"round {r + 1}, prompt cache {mb} MB: {seconds:.1f} s, {evaluated} prompt tokens evaluated"
            )
    base, cached = statistics.median(times[0]), statistics.median(times[args.cache_mb])
    print(
        f"\nprompt tokens evaluated: {tokens[args.cache_mb]} with the cache, {tokens[0]} without "
        f"({tokens[args.cache_mb] / max(tokens[0], 1):.2f}x)"
    )
    print(f"time of the sequence (median of {args.rounds}): cache / no cache = {cached / base:.2f}")


if __name__ == "__main__":
    main()
