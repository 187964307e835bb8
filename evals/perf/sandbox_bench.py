"""The sandbox's added latency per call: shell_run and python_run with and without it.

    python -m evals.perf.sandbox_bench [--calls 40]

Both modes run in this one process, interleaved call by call (so load on the machine hits
both alike), through the registry as the agent calls them: ``shell_run "true"`` and a
small ``python_run`` (``print(sum(range(1000)))``). Prints p50 and p95 per mode and the
ratios sandboxed / unconfined.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tools import ToolContext, ToolSettings, default_registry
from tools.confine import probe
from tools.python_env import ensure_env


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _bench(calls: int) -> dict[str, dict[str, list[float]]]:
    registry = default_registry(enabled=("shell", "python"))
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        'shell_run "true"': ("shell_run", {"command": "true"}),
        "python_run small": ("python_run", {"code": "print(sum(range(1000)))"}),
    }
    times: dict[str, dict[str, list[float]]] = {case: {"bwrap": [], "none": []} for case in cases}
    with tempfile.TemporaryDirectory(prefix="jm-sandbox-bench-") as tmp:
        settings = {mode: ToolSettings(sandbox=mode) for mode in ("bwrap", "none")}  # type: ignore[arg-type]
        ctxs = {mode: ToolContext(Path(tmp) / mode, s) for mode, s in settings.items()}
        for ctx in ctxs.values():
            await ensure_env(ctx)
        for i in range(calls + 2):  # the first two are warm-up
            for case, (name, args) in cases.items():
                for mode, ctx in ctxs.items():
                    started = time.perf_counter()
                    res = await registry.call(name, args, ctx)
                    took = time.perf_counter() - started
                    if not res.ok:
                        raise SystemExit(f"{case} ({mode}) failed: {res.error}\n{res.output}")
                    if i >= 2:
                        times[case][mode].append(took * 1000)
        for ctx in ctxs.values():
            await ctx.aclose()
    return times


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per case and mode")
    args = parser.parse_args()
    status = probe()
    if not status.ok:
        raise SystemExit(f"the sandbox cannot run here: {status.detail}; {status.fix}")
    times = asyncio.run(_bench(args.calls))
    print(f"{args.calls} calls per case and mode, interleaved; milliseconds per call")
    print(f"{'case':20} {'mode':6} {'p50':>8} {'p95':>8}")
    for case, modes in times.items():
        for mode, values in modes.items():
            print(f"{case:20} {mode:6} {_pct(values, 0.5):8.1f} {_pct(values, 0.95):8.1f}")
        p50 = _pct(modes["bwrap"], 0.5) / _pct(modes["none"], 0.5)
        p95 = _pct(modes["bwrap"], 0.95) / _pct(modes["none"], 0.95)
        added = statistics.median(modes["bwrap"]) - statistics.median(modes["none"])
        print(f"{case:20} ratio  p50 x{p50:.2f}  p95 x{p95:.2f}  (+{added:.1f} ms at p50)")


if __name__ == "__main__":
    main()
