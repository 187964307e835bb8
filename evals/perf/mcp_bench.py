"""MCP benchmark: ``search_experience`` over stdio beside the same search in process.

    python -m evals.perf.mcp_bench [--size 10000] [--queries 200]

A store of ``--size`` items (the retrieval set plus filler, filled in bulk with precomputed
vectors as in memory_bench) is served by ``journeyman mcp serve`` in a subprocess; the
SDK's client calls ``search_experience`` over stdio. The baseline is the same function the
tool runs (:func:`agent.mcp_server.search_experience`) called in this process on the same
store, query for query, interleaved so both see the same machine load. Printed: p50/p95
of each, their ratios, and the server's start-up time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from agent.config import Settings
from agent.mcp_server import search_experience
from evals.perf.memory_bench import _fill, _filler_pool
from evals.perf.memory_retrieval_set import load
from memory import MemorySettings, MemoryStore

ROOT = Path(__file__).resolve().parents[2]


def build_store(path: Path, size: int) -> None:
    """The retrieval set plus filler up to ``size`` items."""
    items, _queries = load()
    with MemoryStore.open(path, settings=MemorySettings()) as store:
        take = items[: min(size, len(items))]
        store.add_many(take, reason="retrieval set")
        if size > len(take):
            _fill(store, size - len(take), len(take), _filler_pool(store, 2000, seed=11), seed=5)


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def measure(path: Path, queries: list[str]) -> dict[str, float]:
    """Interleaved timings (ms) of the MCP call and the in-process search, per query."""
    from mcp import Client, StdioServerParameters

    settings = Settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYMAN_")}
    env["PYTHONPATH"] = str(ROOT)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from agent.cli import main; main()", "mcp", "serve", "--memory", str(path)],
        env=env,
    )
    remote: list[float] = []
    local: list[float] = []
    with MemoryStore.open(path, settings=settings.memory, readonly=True) as store:
        t0 = time.perf_counter()
        async with Client(params, read_timeout_seconds=120) as client:
            start_s = time.perf_counter() - t0
            for q in queries[:5]:  # warm both sides: first queries load the model and index
                await client.call_tool("search_experience", {"query": q})
                search_experience(store, settings, q)
            for q in queries:
                t = time.perf_counter()
                served = await client.call_tool("search_experience", {"query": q})
                remote.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                here = search_experience(store, settings, q)
                local.append((time.perf_counter() - t) * 1000)
                got = [h["id"] for h in (served.structured_content or {}).get("hits", [])]
                assert got == [h.id for h in here.hits], f"results differ for {q!r}"
    return {
        "start_s": start_s,
        "mcp_p50": _p(remote, 50),
        "mcp_p95": _p(remote, 95),
        "local_p50": _p(local, 50),
        "local_p95": _p(local, 95),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the store, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000, help="Items in the store.")
    ap.add_argument("--queries", type=int, default=200, help="Timed queries.")
    ap.add_argument("--keep", type=Path, default=None, help="Build the store here and keep it.")
    args = ap.parse_args(argv)
    _items, qs = load()
    texts = [q["query"] for q in qs]
    queries = (texts * (args.queries // len(texts) + 1))[: args.queries]
    root = args.keep or Path(tempfile.mkdtemp(prefix="jm-mcp-bench-"))
    try:
        t = time.perf_counter()
        if not MemoryStore.exists(root / "store"):
            build_store(root / "store", args.size)
        print(f"store: {args.size} items built in {time.perf_counter() - t:.1f}s under {root}")
        r = asyncio.run(measure(root / "store", queries))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(
        f"search_experience at {args.size} items, {len(queries)} queries (same results both ways)\n"
        f"  over stdio (journeyman mcp serve): p50 {r['mcp_p50']:.1f} ms, p95 {r['mcp_p95']:.1f} ms\n"
        f"  in process (same function, store): p50 {r['local_p50']:.1f} ms, p95 {r['local_p95']:.1f} ms\n"
        f"  ratio stdio / in process: p50 {r['mcp_p50'] / r['local_p50']:.2f}x, "
        f"p95 {r['mcp_p95'] / r['local_p95']:.2f}x; overhead p50 "
        f"{r['mcp_p50'] - r['local_p50']:.1f} ms\n"
        f"  server start-up (process, store open, handshake): {r['start_s']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
