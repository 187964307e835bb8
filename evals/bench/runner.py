"""The benchmark runner: protocols over suites, one fresh workspace and reset apps per task.

    config = BenchConfig(suite="smoke", protocol="continual", iterations=3, out=Path("out"))
    summary = await run_bench(settings, config, on_event=print)

Results are appended to ``<out>/results.jsonl`` as each task ends. ``resume=True`` skips the
(protocol, phase, iteration, task) attempts already there; a store carried across tasks is
first put back to the snapshot taken right after the last recorded task, so that a killed
run continues exactly where an unbroken one would be. Each worker has its own Acme run
folder (own ports and data), so ``workers > 1`` runs tasks side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from evals.acme.manager import APP_NETWORK
from evals.bench.config import (
    BenchConfig,
    BenchError,
    BenchEvent,
    BenchModel,
    BenchRun,
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
    TaskResult,
)
from evals.bench.store import ResultsStore
from evals.portable import portable
from evals.tasks import Task, load_suite

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.base import LLM
    from evals.acme.manager import Environment
    from memory import MemoryStore

HARD_LIMIT_SLACK_S = 60.0
"""The agent stops itself at the task's time limit; this much later it is cancelled."""


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
        envs = [_environment(config.out, w) for w in range(config.workers)]
        run = BenchRun(settings, config, results, model, envs, on_event, done=results.done())
        total = sum(p.attempts for p in phases)
        run.emit(BenchEvent(kind="plan", total=total, text=_describe(config, phases)))
        results.save_manifest(manifest)
        try:
            for phase in phases:
                await _run_phase(run, phase)
        finally:
            await asyncio.to_thread(_down, envs)
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
    return f"{config.protocol} ({'; '.join(parts)}) -> {config.out}"


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
        entry = old.model_copy(update={"workers": config.workers})
    manifest.runs[config.protocol] = entry
    return manifest


# -- the model ---------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def _model(
    settings: Settings, config: BenchConfig, llm: LLM | None
) -> AsyncIterator[BenchModel]:
    """The model for the whole run: given, from ``$JOURNEYMAN_LLM``, or the profile's (a
    local profile's server is started once here and stopped at the end)."""
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
        yield BenchModel(hooked, spec, name, str(getattr(hooked, "name", spec)), None)
        return
    from agent.llm import build_llm

    if not prof.local:
        yield BenchModel(build_llm(settings, name), name, name, prof.model, None)
        return
    from agent.local import amanaged_model

    async with amanaged_model(settings, name) as base_url:
        yield BenchModel(build_llm(settings, name, base_url=base_url), name, name, prof.model, sha)


# -- phases and iterations ---------------------------------------------------------------
async def _run_phase(run: BenchRun, phase: PhasePlan) -> None:
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
            await _run_tasks(run, phase, store, todo)
            _finish_iteration(run, phase, store, iteration, keys)


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
    todo: list[tuple[Task, TaskKey]],
) -> None:
    """Run ``todo`` on the workers, each task on the first free worker, in order."""
    queue: asyncio.Queue[tuple[Task, TaskKey]] = asyncio.Queue()
    for item in todo:
        queue.put_nowait(item)

    async def worker(w: int) -> None:
        while not queue.empty():
            task, key = queue.get_nowait()
            run.emit(BenchEvent(kind="task_start", key=key, worker=w))
            result = await _run_one(run, phase, store, task, key, w)
            record(run, phase, store, result)
            run.emit(BenchEvent(kind="task_done", key=key, result=result, worker=w))

    n = min(run.config.workers, len(todo))
    workers = [asyncio.create_task(worker(w)) for w in range(n)]
    try:
        await asyncio.gather(*workers)
    finally:
        for t in workers:
            t.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


# -- one task ----------------------------------------------------------------------------
def _environment(out: Path, worker: int) -> Environment:
    from evals.acme.manager import Environment

    return Environment(Path(out) / "envs" / f"w{worker}")


def _down(envs: list[Environment]) -> None:
    for env in envs:
        if env.state_file.exists():
            with contextlib.suppress(Exception):
                env.down()


def _task_settings(run: BenchRun, task: Task) -> Settings:
    cfg = run.config
    time_s = float(cfg.time_limit_s or task.spec.limits.time_s)
    limits = run.settings.limits.model_copy(
        update={"max_steps": cfg.max_steps or task.spec.limits.max_steps, "max_wall_s": time_s}
    )
    update: dict[str, object] = {"limits": limits, "runs_dir": Path(cfg.out) / "runs"}
    if task.spec.apps:  # the task's shell steps reach its apps (curl to WebDAV, SMTP ...)
        update["tools"] = run.settings.tools.model_copy(update={"sandbox_network": APP_NETWORK})
    return run.settings.model_copy(update=update)


async def _run_one(
    run: BenchRun,
    phase: PhasePlan,
    store: MemoryStore | None,
    task: Task,
    key: TaskKey,
    worker: int,
) -> TaskResult:
    """Reset the task's apps, run the agent in a fresh workspace, grade what it left."""
    from agent.build import build_agent
    from agent.errors import AuthenticationFailed, ModelNotFound, ProviderUnavailable
    from agent.llm import UsageMeter
    from agent.runner import Event, RunResult, run_task
    from evals.grading import grade

    env = run.envs[worker]
    settings = _task_settings(run, task)
    workspace = Path(run.config.out) / "work" / key.label()
    shutil.rmtree(workspace, ignore_errors=True)
    started = time.time()
    t0 = time.monotonic()
    prompt = await asyncio.to_thread(task.prepare, env, workspace)
    result = TaskResult(
        protocol=key.protocol,
        phase=key.phase,
        iteration=key.iteration,
        task=task.id,
        suite=task.suite,
        name=task.name,
        category=task.spec.category,
        family=task.spec.family,
        difficulty=task.spec.difficulty,
        apps=list(task.spec.apps),
        model=run.model.spec,
        memory_mode=phase.memory,
        outcome="error",
        worker=worker,
        started_at=started,
    )
    meter = UsageMeter()  # usage also of a run cut off by the time limit
    t_agent = time.monotonic()
    steps = 0

    def count(event: Event) -> None:
        nonlocal steps
        steps += event.event == "step"

    agent = build_agent(
        settings,
        llm=meter.wrap(run.model.llm),
        memory=store if store is not None else False,
        workspace=workspace,
        profile=run.model.profile,
        learn=phase.learn,
    )
    thread = f"{key.label()}-{uuid.uuid4().hex[:6]}"
    ran: RunResult | None = None
    try:
        async with agent:
            ran = await asyncio.wait_for(
                run_task(agent, prompt, thread_id=thread, on_event=count),
                timeout=settings.limits.max_wall_s + HARD_LIMIT_SLACK_S,
            )
    except TimeoutError:
        result.outcome, result.stop_reason = "timeout", "time limit of the task"
    except (AuthenticationFailed, ModelNotFound, ProviderUnavailable):
        raise  # the model is unusable: stop the run; --resume retries this task
    except Exception as exc:  # a crash of the agent on this task is a result, not the end
        result.error = f"{type(exc).__name__}: {exc}"[:2000]
    usage = meter.total
    result.steps = steps
    result.agent_s = round(time.monotonic() - t_agent, 3)
    if ran is not None:
        result.outcome, result.stop_reason = str(ran.outcome), ran.stop_reason
        result.steps = ran.steps
        result.agent_s = round(ran.elapsed_s, 3)
        result.items_used = list(ran.items_used)
        result.items_written = list(ran.items_written)
    result.llm_calls = usage.calls
    result.input_tokens = usage.input_tokens
    result.output_tokens = usage.output_tokens
    result.cached_tokens = usage.cached_tokens
    result.cost_usd = round(usage.cost_usd, 6)
    result.thread_id = thread
    try:
        graded = await asyncio.to_thread(grade, task, env, workspace)
        result.score, result.full = graded.score, graded.full
        result.passed_points, result.total_points = graded.passed_points, graded.total_points
        result.checkpoints = graded.checkpoints
    except Exception as exc:
        result.error = (result.error or "") + f" grading failed: {type(exc).__name__}: {exc}"
    if store is not None:
        result.memory_active_after = int(store.stats()["active"])
    result.wall_s = round(time.monotonic() - t0, 3)
    result.finished_at = time.time()
    return result


__all__ = [
    "START_SNAPSHOT",
    "BenchConfig",
    "BenchError",
    "BenchEvent",
    "BenchSummary",
    "memory_dir",
    "run_bench",
]
