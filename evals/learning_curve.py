"""The first measured learning curve (``make learning-curve``).

Runs, into ``evals/results/<name>/``:

1. ``continual``: K passes (default 3) over short ``acme`` tasks of several families, with
   one memory store carried across them;
2. ``no-memory``: one pass over the same tasks with memory off, and one over the
   ``acme-transfer`` tasks (the baselines);
3. ``transfer``: the ``acme-transfer`` tasks with a frozen copy of the store the continual
   run ended with (learning off).

then writes report.json and report.html there. The exact command and the model's SHA-256
are in manifest.json and on the page. Sized for about 2 hours with the 1.5B local model
on two idle cores: 32 task attempts (6 tasks x 3 passes, 6 + 4 baseline, 4 transfer), each
stopped after 8 steps or 180 s (a step costs seconds to tens of seconds; the server keeps
the shared prompt prefix in its cache). Stop it any time and continue with ``--resume``.

    python -m evals.learning_curve                      # the full run, local model
    python -m evals.learning_curve --resume             # continue a stopped run
    python -m evals.learning_curve --name tiny --model local-small --per-family 1 \\
        --families ticket-triage --iterations 1 --transfer 0
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from evals.bench import BenchConfig, BenchEvent, ResultsStore, run_bench
from evals.bench.runner import memory_dir
from evals.report import write_report
from evals.tasks import Task, load_suite

RESULTS_ROOT = Path(__file__).parent / "results"
FAMILIES = ("ticket-triage", "release-planning", "sales-report")
MEASURED = "MEASURED.md"


def pick_tasks(
    suite: str, families: Sequence[str], per_family: int, *, limit: int | None = None
) -> list[Task]:
    """Short tasks of ``suite``, ``per_family`` of each family in turn (sorted by name)."""
    tasks = load_suite(suite)
    chosen: list[Task] = []
    for family in families:
        short = [t for t in tasks if t.spec.family == family and t.spec.difficulty == "short"]
        chosen += short[:per_family]
    if limit is not None:
        # interleave the families so that a limit keeps them all
        by_family = [[t for t in chosen if t.spec.family == f] for f in families]
        chosen = [t for group in _zip_longest(by_family) for t in group][:limit]
    return chosen


def _zip_longest(groups: list[list[Task]]) -> list[list[Task]]:
    depth = max((len(g) for g in groups), default=0)
    return [[g[i] for g in groups if i < len(g)] for i in range(depth)]


def _printer(event: BenchEvent) -> None:
    if event.kind == "plan":
        print(f"bench: {event.text}", flush=True)
    elif event.kind == "skip":
        print(f"resume: {event.total} finished task(s) skipped ({event.text})", flush=True)
    elif event.kind == "task_start" and event.key is not None:
        k = event.key
        print(f"  start {k.protocol} {k.phase} i{k.iteration} {k.task}", flush=True)
    elif event.kind == "task_done" and event.result is not None:
        r = event.result
        print(
            f"  done  {r.protocol} {r.phase} i{r.iteration} {r.task}: score {r.score:.2f} "
            f"({r.passed_points}/{r.total_points}), {r.outcome}, {r.steps} steps, "
            f"{r.tokens} tok, {r.wall_s:.0f} s" + (f", error: {r.error[:120]}" if r.error else ""),
            flush=True,
        )
    elif event.kind == "iteration_done" and event.iteration is not None:
        it = event.iteration
        print(
            f"{it.protocol} {it.phase} iteration {it.iteration}: mean {it.mean_score:.3f}, "
            f"{it.full}/{it.tasks} full, {it.memory_active} active memory item(s)",
            flush=True,
        )
    elif event.kind == "note":
        print(event.text, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evals.learning_curve", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--name", default="learning-curve", help="Folder under evals/results/.")
    p.add_argument("--out-root", type=Path, default=RESULTS_ROOT)
    p.add_argument("--model", default="local", help="Model profile (default: local, 1.5B).")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--per-family", type=int, default=2, help="acme tasks per family.")
    p.add_argument("--transfer", type=int, default=4, help="acme-transfer tasks (0: none).")
    p.add_argument("--max-steps", type=int, default=8, help="Step limit of every task.")
    p.add_argument("--time-limit", type=float, default=180.0, help="Seconds per task.")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="Continue the run in the folder.")
    return p


async def run_learning_curve(args: argparse.Namespace, command: str) -> Path:
    """Run the three protocols in order and write the report; return the folder."""
    from agent.config import load_settings
    from agent.llm import build_llm
    from agent.local import amanaged_model

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    tasks = pick_tasks("acme", families, args.per_family)
    transfer = (
        pick_tasks("acme-transfer", families, 9, limit=args.transfer) if args.transfer else []
    )
    if not tasks:
        raise SystemExit(f"no short acme tasks in families {families}")
    out = args.out_root / args.name
    settings = load_settings()
    common = {
        "model": args.model,
        "out": out,
        "resume": args.resume,
        "workers": args.workers,
        "max_steps": args.max_steps,
        "time_limit_s": args.time_limit,
        "command": command,
    }
    names = [t.name for t in tasks]
    transfer_names = [t.name for t in transfer] or None
    configs = [
        BenchConfig(
            suite="acme", protocol="continual", iterations=args.iterations, tasks=names, **common
        ),
        BenchConfig(
            suite="acme",
            protocol="no-memory",
            tasks=names,
            transfer_suite="acme-transfer" if transfer else None,
            transfer_tasks=transfer_names,
            **common,
        ),
    ]
    if transfer:
        configs.append(
            BenchConfig(
                suite="acme",
                protocol="transfer",
                tasks=names,
                transfer_suite="acme-transfer",
                transfer_tasks=transfer_names,
                memory_from=memory_dir(out, "continual", "carry"),
                **common,
            )
        )
    t0 = time.monotonic()
    # one model server for all three protocols
    async with amanaged_model(settings, args.model) as base_url:
        llm = build_llm(settings, args.model, base_url=base_url)
        for i, config in enumerate(configs):
            if i > 0 and not args.resume:
                config = config.model_copy(update={"resume": _has(out, config.protocol)})
            await run_bench(settings, config, on_event=_printer, llm=llm)
    _write_measured(out, command, time.monotonic() - t0)
    write_report(out)
    return out


def _has(out: Path, protocol: str) -> bool:
    return protocol in ResultsStore(out).manifest().runs


def _write_measured(out: Path, command: str, seconds: float) -> None:
    """Facts of the run for the report (the closing note is written by a person)."""
    store = ResultsStore(out)
    results = store.results()
    manifest = store.manifest()
    sha = next((r.model_sha256 for r in manifest.runs.values() if r.model_sha256), None)
    lines = [
        f"command: {command}",
        f"model: {next(iter(manifest.runs.values())).model_name} (sha256 {sha})",
        f"this invocation took {seconds / 60:.1f} min; task wall time recorded in all: "
        f"{sum(r.wall_s for r in results) / 60:.1f} min over {len(results)} task attempts",
    ]
    for it in store.iterations():
        label = it.protocol if it.phase == "run" else f"{it.protocol}/{it.phase}"
        lines.append(
            f"{label} iteration {it.iteration} ({it.suite}, {it.tasks} tasks): mean score "
            f"{it.mean_score:.3f}, {it.full} full, {it.memory_active} active memory items"
        )
    (out / MEASURED).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m evals.learning_curve``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    command = shlex.join(["python", "-m", "evals.learning_curve", *argv])
    out = asyncio.run(run_learning_curve(args, command))
    print(f"report: {out / 'report.html'}")


if __name__ == "__main__":
    main()
