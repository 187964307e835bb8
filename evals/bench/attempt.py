"""One task attempt: reset the task's apps, run the agent in a fresh workspace, grade it.

The same function runs in the runner's process (``--workers N``) and inside a Ray worker
(``--ray``): everything it needs arrives as arguments, and it writes nothing but its
workspace, its run folder and the apps of its own Acme environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from evals.acme.manager import APP_NETWORK
from evals.bench.config import BenchConfig, BenchModel
from evals.bench.records import MemoryMode, TaskKey, TaskResult
from evals.tasks import Task

if TYPE_CHECKING:
    from agent.config import Settings
    from evals.acme.manager import Environment
    from memory import MemoryStore

HARD_LIMIT_SLACK_S = 60.0
"""The agent stops itself at the task's time limit; this much later it is cancelled."""


def environment(out: Path, worker: int) -> Environment:
    """Worker ``worker``'s Acme run folder (its own data and ports) under ``out``."""
    from evals.acme.manager import Environment

    return Environment(Path(out) / "envs" / f"w{worker}")


def stop_environments(envs: list[Environment]) -> None:
    """Stop every app these environments started (errors ignored: best effort at the end)."""
    for env in envs:
        if env.state_file.exists():
            with contextlib.suppress(Exception):
                env.down()


def task_settings(settings: Settings, config: BenchConfig, task: Task, worker: int = 0) -> Settings:
    """The settings of one attempt: the task's limits, runs under ``<out>/runs``, and one
    Python environment per worker for all its attempts (``<out>/pyenv/w<n>``, unless the
    settings name one): a fresh workspace would otherwise install pandas again each time,
    a minute of every table task spent on pip rather than on the task."""
    time_s = float(config.time_limit_s or task.spec.limits.time_s)
    limits = settings.limits.model_copy(
        update={"max_steps": config.max_steps or task.spec.limits.max_steps, "max_wall_s": time_s}
    )
    update: dict[str, object] = {"limits": limits, "runs_dir": Path(config.out) / "runs"}
    tools: dict[str, object] = {}
    if task.spec.apps:  # the task's shell steps reach its apps (curl to WebDAV, SMTP ...)
        tools["sandbox_network"] = APP_NETWORK
    if settings.tools.python_env_dir is None:
        tools["python_env_dir"] = Path(config.out) / "pyenv" / f"w{worker}"
    update["tools"] = settings.tools.model_copy(update=tools)
    return settings.model_copy(update=update)


async def run_attempt(
    settings: Settings,
    config: BenchConfig,
    model: BenchModel,
    env: Environment,
    *,
    memory_mode: MemoryMode,
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

    assert model.llm is not None, "the model of an attempt is built before it runs"
    settings = task_settings(settings, config, task, worker)
    workspace = Path(config.out) / "work" / key.label()
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
        model=model.spec,
        memory_mode=memory_mode,
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
        llm=meter.wrap(model.llm),
        memory=store if store is not None else False,
        workspace=workspace,
        profile=model.profile,
        learn=memory_mode == "carry",
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
