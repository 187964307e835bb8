"""Benchmark attempts on a Ray cluster (``journeyman bench run ... --ray auto|ADDRESS``).

Each worker is a Ray actor (:class:`BenchWorker`) placed by Ray on some node for the whole
run, with its own Acme environment there (``<out>/envs/wN``: its own data and ports) and
its own model: a given or scripted model travels to it, a profile is built there (with
``endpoints``, worker i talks to endpoint i modulo their number; a local profile without
endpoints starts one server per worker). Ray's :class:`~ray.util.ActorPool` hands the
attempts of one iteration to free actors; this process keeps the protocol as in a local
run: it records each result as it comes back (``results.jsonl``, the store snapshot
``--resume`` returns to), waits for the whole iteration before the next one, and the
actors write memory to the same store the runner opened.

Every node runs the same checkout and virtualenv, with ``out`` and a SQLite store on a
folder all of them see, or the PostgreSQL memory backend (docs/DEPLOY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.bench.attempt import environment, run_attempt, stop_environments
from evals.bench.config import BenchConfig, BenchError, BenchEvent, BenchModel, BenchRun
from evals.bench.phase_memory import record
from evals.bench.protocols import PhasePlan
from evals.bench.records import MemoryMode, TaskKey, TaskResult
from evals.tasks import Task, load_suite

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.base import LLM
    from evals.bench.runner import RunTasks, Todo
    from memory import MemoryStore

POLL_S = 0.1
"""How often the runner looks for finished attempts (a cancelled wait must end at once)."""
CLOSE_TIMEOUT_S = 120.0
"""How long the workers get to stop their apps at the end before they are killed."""
CPUS_PER_WORKER = 1


class WorkerFatal(Exception):
    """A known failure (see agent.errors.FatalError) raised in a worker, carried back as
    text and exit code: the original class need not unpickle here."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message, exit_code)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return str(self.args[0])


class WorkerCrashed(Exception):
    """Any other exception raised in a worker (a bug): its remote traceback as the message."""


def _carry(exc: Exception) -> Exception:
    """``exc`` in a form that always travels back to the runner."""
    import traceback

    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return WorkerFatal(str(exc), code)
    return WorkerCrashed("".join(traceback.format_exception(exc)).strip())


class BenchWorker:
    """One worker of a Ray run (a Ray actor): its Acme environment, its model, its attempts."""

    def __init__(
        self,
        worker: int,
        settings: Settings,
        config: BenchConfig,
        model: BenchModel,
        endpoint: str | None,
    ) -> None:
        self.worker = worker
        self.settings = settings
        self.config = config
        self.model = model
        self.endpoint = endpoint
        self.env = environment(config.out, worker)
        self._stack = contextlib.AsyncExitStack()
        self._tasks: dict[str, Task] = {}

    async def attempt(
        self, memory_mode: MemoryMode, store: str | None, suite: str, task: str, key: TaskKey
    ) -> TaskResult:
        """Run one attempt here; ``store``: the folder of the phase's store, or None."""
        opened = None
        try:
            if self.model.llm is None:
                self.model = dataclasses.replace(self.model, llm=await self._build_llm())
            opened = _open_store(self.settings, store) if store else None
            return await run_attempt(
                self.settings,
                self.config,
                self.model,
                self.env,
                memory_mode=memory_mode,
                store=opened,
                task=self._task(suite, task),
                key=key,
                worker=self.worker,
            )
        except Exception as exc:
            raise _carry(exc) from None
        finally:
            if opened is not None:
                opened.close()

    async def close(self) -> None:
        """Stop this worker's apps and its model server (if it started one)."""
        await asyncio.to_thread(stop_environments, [self.env])
        await self._stack.aclose()

    def _task(self, suite: str, task_id: str) -> Task:
        if task_id not in self._tasks:
            for task in load_suite(suite, self.config.suites_root):
                self._tasks[task.id] = task
        return self._tasks[task_id]

    async def _build_llm(self) -> LLM:
        from agent.build import LLM_HOOK_ENV, llm_from_hook
        from agent.config import resolve_profile
        from agent.llm import build_llm

        if self.model.hook:  # a scripted model: this process reads the same hook
            os.environ[LLM_HOOK_ENV] = self.model.hook
            hooked = llm_from_hook(self.settings)
            assert hooked is not None
            return hooked
        name, prof = resolve_profile(self.settings, self.model.profile)
        base_url = self.endpoint
        if base_url is None and prof.local:
            from agent.local import amanaged_model

            base_url = await self._stack.enter_async_context(amanaged_model(self.settings, name))
        return build_llm(self.settings, name, base_url=base_url)


def _open_store(settings: Settings, folder: str) -> MemoryStore:
    """The phase's store, opened by a worker (the runner opened it first and keeps it)."""
    from memory import MemoryStore

    return MemoryStore.open(Path(folder), settings=settings.memory)


# -- the runner's side ---------------------------------------------------------------------
@contextlib.asynccontextmanager
async def ray_workers(run: BenchRun) -> AsyncIterator[RunTasks]:
    """Connect to the cluster, start ``config.workers`` actors, stop them all at the end."""
    try:
        import ray
    except ModuleNotFoundError:
        raise BenchError(
            "--ray needs Ray: install journeyman's `ray` extra (pip install 'journeyman[ray]')"
        ) from None
    address = run.config.ray
    assert address is not None
    # workers run in other folders (and on other machines): every path they get is absolute
    # (abspath is string work plus getcwd: nothing that blocks on a disk)
    out = Path(os.path.abspath(run.config.out))  # noqa: ASYNC240
    config = run.config.model_copy(update={"out": out})
    connected = connect(address)  # in the main thread: Ray installs its signal handlers there
    actors: list[Any] = []
    in_flight: list[Any] = []
    try:
        cpus = float(ray.cluster_resources().get("CPU", 0))
        if cpus < config.workers * CPUS_PER_WORKER:
            raise BenchError(
                f"the Ray cluster at {address} has {cpus:g} CPU(s), too few for "
                f"--workers {config.workers}: add nodes or ask for fewer workers"
            )
        remote = ray.remote(num_cpus=CPUS_PER_WORKER)(BenchWorker)
        endpoints = config.endpoints or []
        actors = [
            remote.remote(
                w,
                run.settings,
                config,
                run.model,
                endpoints[w % len(endpoints)] if endpoints else None,
            )
            for w in range(config.workers)
        ]
        pool = ray.util.ActorPool(actors)

        async def run_tasks(
            run: BenchRun, phase: PhasePlan, store: MemoryStore | None, todo: Todo
        ) -> None:
            await _run_on_pool(run, phase, store, todo, pool, in_flight)

        yield run_tasks
    finally:
        await asyncio.to_thread(_stop, actors, in_flight, connected)


async def _run_on_pool(
    run: BenchRun,
    phase: PhasePlan,
    store: MemoryStore | None,
    todo: Todo,
    pool: Any,
    in_flight: list[Any],
) -> None:
    """Hand ``todo`` to the pool; record each result as it comes back; return when all did."""
    folder = os.path.abspath(store.path) if store is not None else None  # noqa: ASYNC240

    def submit(actor: Any, item: tuple[Task, TaskKey]) -> Any:
        task, key = item
        ref = actor.attempt.remote(phase.memory, folder, task.suite, task.id, key)
        in_flight.append(ref)
        return ref

    for item in todo:
        run.emit(BenchEvent(kind="task_start", key=item[1]))
        pool.submit(submit, item)
    pending = len(todo)
    while pool.has_next():
        try:
            result: TaskResult = pool.get_next_unordered(timeout=0)
        except TimeoutError:
            await asyncio.sleep(POLL_S)
            continue
        except Exception as exc:
            raise _translate(exc, run.config) from None
        pending -= 1
        record(run, phase, store, result, alone=pending == 0)
        run.emit(BenchEvent(kind="task_done", key=result.key, result=result, worker=result.worker))
    in_flight.clear()


def _translate(exc: Exception, config: BenchConfig) -> Exception:
    """What failed in a worker, as the runner would have raised it itself."""
    from ray.exceptions import RayActorError, RayTaskError

    if isinstance(exc, RayTaskError) and isinstance(exc.cause, WorkerFatal | WorkerCrashed):
        return exc.cause  # the worker's own exception (a fatal model error, a broken app)
    if isinstance(exc, RayActorError):
        return BenchError(
            f"a Ray worker of {config.ray} died ({_first_line(exc)}); finished results are kept "
            "in the results folder: continue with --resume"
        )
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _stop(actors: list[Any], in_flight: list[Any], connected: bool) -> None:
    """Cancel what still runs, let every worker stop its apps, then end the actors."""
    import ray

    try:
        for ref in in_flight:
            with contextlib.suppress(Exception):
                ray.cancel(ref)  # an async actor's attempt is cancelled like a local one
        closing = [a.close.remote() for a in actors]
        if closing:
            with contextlib.suppress(Exception):
                ray.wait(closing, num_returns=len(closing), timeout=CLOSE_TIMEOUT_S)
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
    finally:
        if connected:
            ray.shutdown()


def connect(address: str) -> bool:
    """Join the cluster at ``address`` ('auto': the one this machine joined) as a driver;
    False when this process was already connected (then it stays connected)."""
    import ray

    if ray.is_initialized():
        return False
    if address != "auto":
        _check_reachable(address)
    try:
        ray.init(
            address=address,
            log_to_driver=False,  # the workers' logs stay in the cluster's session folder
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise BenchError(
            f"Ray is not reachable at {address}: {_first_line(exc)} (start the head with "
            "`ray start --head`, or pass its address as --ray HOST:PORT)"
        ) from None
    return True


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on a head that does not answer (ray.init would retry for a minute)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise BenchError(f"--ray {address!r}: expected 'auto' or HOST:PORT of a Ray head")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise BenchError(
            f"Ray is not reachable at {address}: {exc.strerror or exc} (start the head with "
            "`ray start --head`, or pass its address as --ray HOST:PORT)"
        ) from None
