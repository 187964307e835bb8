"""The benchmark runner: protocols over suites, one fresh workspace and reset apps per task.

    config = BenchConfig(suite="smoke", protocol="continual", iterations=3, out=Path("out"))
    summary = await run_bench(settings, config, on_event=print)

Results are appended to ``<out>/results.jsonl`` as each task ends. ``resume=True`` skips the
(protocol, phase, iteration, task) attempts already there; a store carried across tasks is
first put back to the snapshot taken right after the last recorded task, so that a killed
run continues exactly where an unbroken one would be. Each worker has its own Acme run
folder (own ports and data), so ``workers > 1`` runs tasks side by side; with
``config.ray`` the attempts run as tasks of Ray actors on a cluster (evals/bench/cluster.py),
while this process keeps the order of phases and iterations and writes every result.

A file named ``STOP`` in the run's folder (``touch <out>/STOP``) stops a long run at the end
of the sitting without losing an attempt: the workers take no new task, the attempts in
progress finish and are recorded, the file is removed and ``BenchStopped`` says how to go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from evals.bench.attempt import environment, run_attempt, stop_environments
from evals.bench.config import (
    STOP_FILE,
    BenchConfig,
    BenchError,
    BenchEvent,
    BenchModel,
    BenchRun,
    BenchStopped,
    BenchSummary,
    EventSink,
)
from evals.bench.phase_memory import START_SNAPSHOT, memory_dir, phase_memory, record
from evals.bench.protocols import PhasePlan, plan_protocol
from evals.bench.records import (
    IterationRecord,
    Manifest,
    ProtocolRun,
    TaskKey,
)
from evals.bench.store import ResultsStore
from evals.portable import code_version, portable, same_code
from evals.tasks import Task, load_suite

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.base import LLM
    from memory import MemoryStore

Todo = list[tuple[Task, TaskKey]]
RunTasks = Callable[[BenchRun, PhasePlan, "MemoryStore | None", Todo], Awaitable[None]]
"""Runs one iteration's attempts (in any order, side by side) and records each result."""


# -- entry point -------------------------------------------------------------------------
async def run_bench(
    settings: Settings,
    config: BenchConfig,
    *,
    on_event: EventSink | None = None,
    llm: LLM | None = None,
) -> BenchSummary:
    """Run ``config.protocol``; return this protocol's results (old and new)."""
    every = _suite(config.suite, config.suites_root)
    rounds = [_select(every, names, config.suite) for names in config.rounds or []] or None
    if rounds:
        config = config.model_copy(update={"iterations": len(rounds)})
    tasks = [t for r in rounds for t in r] if rounds else _select(every, config.tasks, config.suite)
    transfer: list[Task] = []
    if config.protocol == "transfer" and not config.transfer_suite:
        raise BenchError("the transfer protocol needs --transfer-suite SUITE")
    if config.transfer_suite and config.protocol in ("transfer", "no-memory"):
        transfer = _select(
            _suite(config.transfer_suite, config.suites_root),
            config.transfer_tasks,
            config.transfer_suite,
        )
    phases = plan_protocol(
        config.protocol,
        suite=config.suite,
        tasks=tasks,
        iterations=config.iterations,
        transfer_suite=config.transfer_suite,
        transfer_tasks=transfer,
        learned=config.memory_from is not None,
        rounds=rounds,
    )
    results = ResultsStore(config.out)
    async with _model(settings, config, llm) as model:
        manifest = _check_manifest(results, config, tasks, transfer, model)
        results.repair()
        run = BenchRun(settings, config, results, model, [], on_event, done=results.done())
        total = sum(p.attempts for p in phases)
        async with _workers(run) as run_tasks:
            run.emit(BenchEvent(kind="plan", total=total, text=_describe(config, phases)))
            results.save_manifest(manifest)
            for phase in phases:
                await _run_phase(run, phase, run_tasks)
    mine = [r for r in results.results() if r.protocol == config.protocol]
    return BenchSummary(
        out=results.folder, protocol=config.protocol, ran=run.ran, skipped=run.skipped, results=mine
    )


def _suite(name: str, root: Path) -> list[Task]:
    try:
        return load_suite(name, root)
    except FileNotFoundError as exc:
        raise BenchError(str(exc)) from exc


def _select(tasks: list[Task], names: list[str] | None, suite: str) -> list[Task]:
    if not tasks:
        raise BenchError(f"suite {suite!r} has no tasks")
    if not names:
        return tasks
    by_name = {t.name: t for t in tasks}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise BenchError(
            f"suite {suite!r} has no task(s) {', '.join(unknown)} "
            f"(have: {', '.join(sorted(by_name))})"
        )
    return [by_name[n] for n in names]


def _describe(config: BenchConfig, phases: list[PhasePlan]) -> str:
    parts = [
        f"{p.phase}: {p.iterations} pass(es) of {len(p.tasks_at(1))} fresh {p.suite} task(s)"
        if p.rounds
        else f"{p.phase}: {len(p.tasks)} {p.suite} task(s) x {p.iterations}"
        for p in phases
    ]
    where = f" on Ray ({config.ray}, {config.workers} worker(s))" if config.ray else ""
    return f"{config.protocol} ({'; '.join(parts)}){where} -> {config.out}"


@contextlib.asynccontextmanager
async def _workers(run: BenchRun) -> AsyncIterator[RunTasks]:
    """Where attempts run: Ray actors on a cluster, or this process with one Acme
    environment per worker; either way stopped (apps down) at the end."""
    if run.config.ray:
        from evals.bench.cluster import ray_workers

        async with ray_workers(run) as run_tasks:
            yield run_tasks
        return
    run.envs = [environment(run.config.out, w) for w in range(run.config.workers)]
    try:
        yield _run_tasks
    finally:
        await asyncio.to_thread(stop_environments, run.envs)


def _check_manifest(
    results: ResultsStore,
    config: BenchConfig,
    tasks: list[Task],
    transfer: list[Task],
    model: BenchModel,
) -> Manifest:
    """The manifest with this protocol's entry; refuses to mix different runs in one folder."""
    manifest = results.manifest()
    entry = ProtocolRun(
        protocol=config.protocol,
        suite=config.suite,
        tasks=[t.id for t in tasks],
        rounds=config.rounds or [],
        transfer_suite=config.transfer_suite if transfer else None,
        transfer_tasks=[t.id for t in transfer],
        iterations=1 if config.protocol == "single" else config.iterations,
        model=model.spec,
        model_name=model.name,
        model_sha256=model.sha256,
        workers=config.workers,
        memory_from=portable(config.memory_from, base=config.out) if config.memory_from else None,
        command=config.command,
        code=code_version(),
        started_at=time.time(),
    )
    old = manifest.runs.get(config.protocol)
    if old is not None:
        if not config.resume:
            raise BenchError(
                f"{results.folder} already holds a {config.protocol} run: "
                "add --resume to continue it, or choose another --out"
            )
        same = (
            "suite",
            "tasks",
            "rounds",
            "transfer_suite",
            "transfer_tasks",
            "iterations",
            "model",
        )
        changed = [f for f in same if getattr(old, f) != getattr(entry, f)]
        if changed:
            raise BenchError(
                f"--resume: the {config.protocol} run in {results.folder} was started with other "
                f"{', '.join(changed)}; start it again with the same options or use another --out"
            )
        if old.code and entry.code and not same_code(old.code, entry.code):
            commit = old.code.removesuffix("+changes")
            raise BenchError(
                f"--resume: the {config.protocol} run in {results.folder} ran on code {old.code}, "
                f"and this checkout is {entry.code}; one run does not mix two codes. Resume it "
                f"from a checkout of that commit (git worktree add ../bench-{commit[:7]} "
                f"{commit}), or start it again in another folder"
            )
        entry = old.model_copy(update={"workers": config.workers})  # keeps the first code
    manifest.runs[config.protocol] = entry
    return manifest


# -- the model ---------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def _model(
    settings: Settings, config: BenchConfig, llm: LLM | None
) -> AsyncIterator[BenchModel]:
    """The model for the whole run: given, from ``$JOURNEYMAN_LLM``, or the profile's (a
    local profile's server is started once here and stopped at the end). On Ray only a
    given model travels to the workers; otherwise each worker builds its own."""
    import os

    from agent.build import LLM_HOOK_ENV, llm_from_hook
    from agent.config import resolve_profile

    name, prof = resolve_profile(settings, config.model)
    sha = None
    if prof.local and prof.local_model:
        from agent.local import get_model

        sha = get_model(prof.local_model).sha256
    if llm is not None:  # a caller's model: named by the profile it was built from, if any
        label = str(getattr(llm, "name", "given"))
        spec = config.model or label
        yield BenchModel(llm, spec, name, label, sha if config.model else None)
        return
    hooked = llm_from_hook(settings)
    if hooked is not None:
        spec = os.environ.get(LLM_HOOK_ENV, "")
        label = str(getattr(hooked, "name", spec))
        yield BenchModel(None if config.ray else hooked, spec, name, label, None, hook=spec)
        return
    from agent.llm import build_llm

    if config.ray:  # each worker builds it (a local profile: one server per worker)
        yield BenchModel(None, name, name, prof.model, sha)
        return
    if not prof.local:
        yield BenchModel(build_llm(settings, name), name, name, prof.model, None)
        return
    from agent.local import amanaged_model

    async with amanaged_model(settings, name) as base_url:
        yield BenchModel(build_llm(settings, name, base_url=base_url), name, name, prof.model, sha)


# -- phases and iterations ---------------------------------------------------------------
async def _run_phase(run: BenchRun, phase: PhasePlan, run_tasks: RunTasks) -> None:
    async with phase_memory(run, phase) as store:
        for iteration in range(1, phase.iterations + 1):
            keys = [
                TaskKey(
                    protocol=run.config.protocol, phase=phase.phase, iteration=iteration, task=t.id
                )
                for t in phase.tasks_at(iteration)
            ]
            todo = [
                (t, k)
                for t, k in zip(phase.tasks_at(iteration), keys, strict=True)
                if k not in run.done
            ]
            skipped = len(keys) - len(todo)
            if skipped:
                run.skipped += skipped
                run.emit(BenchEvent(kind="skip", total=skipped, text=f"iteration {iteration}"))
            await run_tasks(run, phase, store, todo)  # the barrier between iterations
            _stop_if_asked(run, [k for k in keys if k not in run.done])
            _finish_iteration(run, phase, store, iteration, keys)


def _stop_if_asked(run: BenchRun, left: list[TaskKey]) -> None:
    """End the run here when ``<out>/STOP`` exists and attempts are left (the file is
    consumed, so that ``--resume`` goes on)."""
    stop = run.config.out / STOP_FILE
    if not stop.exists() or not left:
        return
    stop.unlink(missing_ok=True)
    raise BenchStopped(
        f"stopped as asked ({stop} was there): {len(run.done)} attempt(s) of the "
        f"{run.config.protocol} run recorded, {len(left)} of this iteration left; continue with "
        "--resume"
    )


def _finish_iteration(
    run: BenchRun,
    phase: PhasePlan,
    store: MemoryStore | None,
    iteration: int,
    keys: list[TaskKey],
) -> None:
    """Snapshot the store and record the iteration (once)."""
    protocol = run.config.protocol
    recorded = {(r.phase, r.iteration) for r in run.results.iterations() if r.protocol == protocol}
    if (phase.phase, iteration) in recorded:
        return
    scores = [run.done[k] for k in keys if k in run.done]
    levels: dict[str, int] = {}
    active, snap = 0, None
    if store is not None:
        stats = store.stats()
        levels = {lv: int(counts.get("active", 0)) for lv, counts in stats["levels"].items()}
        active = int(stats["active"])
        if phase.memory == "carry":
            snap = f"{phase.phase}-iter-{iteration}"
            store.snapshot(snap, overwrite=True)
    record = IterationRecord(
        protocol=protocol,
        phase=phase.phase,
        iteration=iteration,
        suite=phase.suite,
        tasks=len(scores),
        mean_score=round(sum(r.score for r in scores) / len(scores), 4) if scores else 0.0,
        full=sum(1 for r in scores if r.full),
        memory_levels=levels,
        memory_active=active,
        memory_snapshot=snap,
        finished_at=time.time(),
    )
    run.results.append_iteration(record)
    run.emit(BenchEvent(kind="iteration_done", iteration=record))


async def _run_tasks(
    run: BenchRun,
    phase: PhasePlan,
    store: MemoryStore | None,
    todo: Todo,
) -> None:
    """Run ``todo`` on the workers, each task on the first free worker, in order."""
    queue: asyncio.Queue[tuple[Task, TaskKey]] = asyncio.Queue()
    for item in todo:
        queue.put_nowait(item)

    busy = 0

    async def worker(w: int) -> None:
        nonlocal busy
        while not queue.empty() and not (run.config.out / STOP_FILE).exists():
            task, key = queue.get_nowait()
            run.emit(BenchEvent(kind="task_start", key=key, worker=w))
            busy += 1
            result = await run_attempt(
                run.settings,
                run.config,
                run.model,
                run.envs[w],
                memory_mode=phase.memory,
                store=store,
                task=task,
                key=key,
                worker=w,
            )
            busy -= 1
            record(run, phase, store, result, alone=busy == 0)
            run.emit(BenchEvent(kind="task_done", key=key, result=result, worker=w))

    n = min(run.config.workers, len(todo))
    workers = [asyncio.create_task(worker(w)) for w in range(n)]
    try:
        await asyncio.gather(*workers)
    finally:
        for t in workers:
            t.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


__all__ = [
    "START_SNAPSHOT",
    "BenchConfig",
    "BenchError",
    "BenchEvent",
    "BenchStopped",
    "BenchSummary",
    "memory_dir",
    "run_bench",
]
