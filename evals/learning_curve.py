"""The learning curve (``make learning-curve``): fresh task instances every iteration.

Runs, into ``evals/results/<name>/`` (with ``--seeds N``: ``<name>/seed-<r>/`` per repeat,
and a report over all of them in ``<name>/``):

1. ``continual``: K passes (default 5) with one memory store carried across them; each pass
   draws new micro and short instances of the learning families from seeds (other data,
   people, ids and wording), so memory has to carry how a task is done, not its answer;
2. ``no-memory``: the same instances with memory off, and the transfer instances with
   memory off (the baselines);
3. ``transfer``: instances of families never learned from, with a frozen copy of the store
   the continual run ended with (learning off).

then writes report.json and report.html (bootstrap intervals over instances). The
instances are written as task folders under ``<folder>/suites/`` and kept with the results.
The exact command and the model's SHA-256 are in manifest.json and on the page. Per task:
20 steps and 600 s, enough for the 1.5B local model to finish a micro or short task. The
default plan is 96 attempts (8 instances x 5 passes, twice, and 8 transfer instances,
twice). With the 1.5B model on two cores an attempt took 110 to 360 s in the first passes
measured (a failing one up to its 600 s), so the run takes about 5 to 6 hours, more than
one sitting: stop it any time, commit the folder (``git add -f <folder>/memory``) and
continue with ``--resume`` on the same code.

    python -m evals.learning_curve                      # the full run, local model
    python -m evals.learning_curve --resume             # continue a stopped run
    python -m evals.learning_curve --name tiny --model local-small --iterations 2 \\
        --families expenses --tiers micro --transfer-families sales-report
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import shlex
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evals.bench import BenchConfig, BenchError, BenchEvent, ResultsStore, run_bench
from evals.bench.runner import memory_dir
from evals.portable import scrub
from evals.report import write_report
from evals.suites._instances import FAMILIES, instance, tiers, write_instances
from evals.suites._spec import TaskSpec

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.base import LLM

RESULTS_ROOT = Path(__file__).parent / "results"
LEARN_FAMILIES = ("expenses", "sales-report", "ticket-triage", "it-support")
TRANSFER_FAMILIES = ("meetings", "onboarding")
TIERS = ("micro", "short")
SUITE, TRANSFER_SUITE = "curve", "curve-transfer"
MEASURED = "MEASURED.md"


class CurveError(ValueError):
    """Options that make no learning curve (the message says which)."""


def instance_seed(repeat: int, iteration: int, index: int) -> int:
    """The seed of one instance: distinct per repeat, iteration (0: transfer) and index."""
    if not 0 <= index < 100 or not 0 <= iteration < 100:
        raise CurveError("at most 99 iterations and 100 instances per family and tier")
    return 10_000 * repeat + 100 * iteration + index


@dataclass(frozen=True)
class CurvePlan:
    """The instances of one repeat: one list per continual pass, and the transfer ones."""

    rounds: list[list[TaskSpec]]
    transfer: list[TaskSpec]

    @property
    def specs(self) -> list[TaskSpec]:
        """Every instance, once."""
        return [s for r in self.rounds for s in r] + self.transfer


def _draw(
    families: Sequence[str], tier_names: Sequence[str], per_tier: int, repeat: int, it: int
) -> list[TaskSpec]:
    suite = TRANSFER_SUITE if it == 0 else SUITE
    return [
        instance(family, tier, instance_seed(repeat, it, j), suite=suite)
        for j in range(per_tier)
        for tier in tier_names
        for family in families
        if tier in tiers(family)
    ]


def plan_instances(
    *,
    families: Sequence[str],
    transfer_families: Sequence[str],
    tier_names: Sequence[str] = TIERS,
    iterations: int = 5,
    per_tier: int = 1,
    transfer_per_tier: int = 2,
    repeat: int = 0,
) -> CurvePlan:
    """Fresh instances for every pass of the learning families, and for the transfer ones."""
    unknown = [f for f in [*families, *transfer_families] if f not in FAMILIES]
    if unknown:
        raise CurveError(f"unknown families {unknown} (have: {', '.join(FAMILIES)})")
    if set(families) & set(transfer_families):
        raise CurveError("transfer families must be families never learned from")
    if iterations < 1 or per_tier < 1 or not families:
        raise CurveError("need at least one learning family, iteration and instance per tier")
    rounds = [_draw(families, tier_names, per_tier, repeat, i) for i in range(1, iterations + 1)]
    if not rounds[0]:
        raise CurveError(f"no family of {list(families)} has a tier of {list(tier_names)}")
    transfer = (
        _draw(transfer_families, tier_names, transfer_per_tier, repeat, 0)
        if transfer_per_tier
        else []
    )
    return CurvePlan(rounds, transfer)


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


def _names(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evals.learning_curve", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--name", default="learning-curve", help="Folder under evals/results/.")
    p.add_argument("--out-root", type=Path, default=RESULTS_ROOT)
    p.add_argument(
        "--model", default="local", help="Model profile, or module:function of a model factory."
    )
    p.add_argument("--iterations", type=int, default=5, help="Continual passes (K).")
    p.add_argument("--families", default=",".join(LEARN_FAMILIES), help="Learned from.")
    p.add_argument(
        "--transfer-families", default=",".join(TRANSFER_FAMILIES), help="Never learned from."
    )
    p.add_argument("--tiers", default=",".join(TIERS), help="Tiers of the instances.")
    p.add_argument("--per-tier", type=int, default=1, help="Instances per family, tier, pass.")
    p.add_argument("--transfer-per-tier", type=int, default=2, help="0: no transfer.")
    p.add_argument("--max-steps", type=int, default=20, help="Step limit of every task.")
    p.add_argument("--time-limit", type=float, default=600.0, help="Seconds per task.")
    p.add_argument("--seeds", type=int, default=1, help="Repeats of the whole protocol.")
    p.add_argument(
        "--first-repeat", type=int, default=0,
        help="Number of the first repeat: its instances' seeds (another number draws instances "
        "the default run never draws, for a probe on fresh data).",
    )  # fmt: skip
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="Continue the run in the folder.")
    return p


def _configs(
    args: argparse.Namespace, out: Path, plan: CurvePlan, command: str
) -> list[BenchConfig]:
    common = {
        "model": None if ":" in args.model else args.model,
        "out": out,
        "resume": args.resume,
        "workers": args.workers,
        "max_steps": args.max_steps,
        "time_limit_s": args.time_limit,
        "command": command,
        "suites_root": out / "suites",
        "suite": SUITE,
        "rounds": [[s.name for s in r] for r in plan.rounds],
    }
    transfer = [s.name for s in plan.transfer]
    configs = [
        BenchConfig(protocol="continual", **common),
        BenchConfig(
            protocol="no-memory",
            transfer_suite=TRANSFER_SUITE if transfer else None,
            transfer_tasks=transfer or None,
            **common,
        ),
    ]
    if transfer:
        configs.append(
            BenchConfig(
                protocol="transfer",
                transfer_suite=TRANSFER_SUITE,
                transfer_tasks=transfer,
                memory_from=memory_dir(out, "continual", "carry"),
                **common,
            )
        )
    return configs


def plan_repeat(args: argparse.Namespace, repeat: int) -> CurvePlan:
    """The instances of one repeat, from the command line's options."""
    return plan_instances(
        families=_names(args.families),
        transfer_families=_names(args.transfer_families),
        tier_names=_names(args.tiers),
        iterations=args.iterations,
        per_tier=args.per_tier,
        transfer_per_tier=args.transfer_per_tier,
        repeat=args.first_repeat + repeat,
    )


async def run_repeat(
    settings: Settings, args: argparse.Namespace, out: Path, plan: CurvePlan, llm: LLM, command: str
) -> None:
    """The three protocols of one repeat into ``out``."""
    write_instances(plan.specs, out / "suites")  # the same files again on --resume
    for i, config in enumerate(_configs(args, out, plan, command)):
        if i > 0 and not args.resume:
            config = config.model_copy(update={"resume": _has(out, config.protocol)})
        await run_bench(settings, config, on_event=_printer, llm=llm)


async def run_learning_curve(
    args: argparse.Namespace, command: str, *, llm: LLM | None = None
) -> Path:
    """Every repeat's protocols, then the reports; return the folder of the main report."""
    from agent.config import load_settings

    out = args.out_root / args.name
    settings = load_settings()
    if args.seeds < 1 or args.first_repeat < 0:
        raise CurveError("--seeds must be at least 1, --first-repeat at least 0")
    folders = [out] if args.seeds == 1 else [out / f"seed-{r}" for r in range(args.seeds)]
    plans = [plan_repeat(args, r) for r in range(args.seeds)]  # bad options fail before a model
    t0 = time.monotonic()
    async with _llm(settings, args.model, llm) as model:
        for folder, plan in zip(folders, plans, strict=True):
            await run_repeat(settings, args, folder, plan, model, command)
    for folder in folders:
        _write_measured(folder, command, time.monotonic() - t0)
        write_report(folder)
    if len(folders) > 1:
        write_report(out)  # pooled over the repeats' folders
    return out


@contextlib.asynccontextmanager
async def _llm(settings: Settings, model: str, given: LLM | None) -> AsyncIterator[LLM]:
    """The model of every protocol: given, a ``module:function`` factory, or a profile's
    (a local profile's server is started once for all of them)."""
    if given is not None:
        yield given
    elif ":" in model:
        module, _, name = model.partition(":")
        yield getattr(importlib.import_module(module), name or "build")(settings)
    else:
        from agent.llm import build_llm
        from agent.local import amanaged_model

        async with amanaged_model(settings, model) as base_url:
            yield build_llm(settings, model, base_url=base_url)


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
        "code: " + ", ".join(sorted({str(r.code) for r in manifest.runs.values()})),
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
    command = scrub(shlex.join(["python", "-m", "evals.learning_curve", *argv]))
    try:
        out = asyncio.run(run_learning_curve(args, command))
    except (CurveError, BenchError) as exc:  # options, or a run folder it cannot go on with
        sys.exit(f"learning-curve: {exc}")
    print(f"report: {out / 'report.html'}")


if __name__ == "__main__":
    main()
