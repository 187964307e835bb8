"""The benchmark's configuration, events and summary, and the state of one run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from evals.bench.records import IterationRecord, ProtocolName, TaskKey, TaskResult
from evals.bench.store import ResultsStore
from evals.tasks import SUITES_DIR

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.llm.base import LLM
    from evals.acme.manager import Environment


class BenchError(Exception):
    """A benchmark run cannot start or continue (the message says what to do)."""

    exit_code = 2


STOP_FILE = "STOP"
"""A file of this name in a run's folder stops the run once the attempts in progress end."""


class BenchStopped(BenchError):
    """The run was asked to stop (``<out>/STOP``): every recorded attempt is kept, and
    ``--resume`` continues from there."""

    exit_code = 3


class BenchConfig(BaseModel):
    """What to run, and where to put the results."""

    suite: str
    protocol: ProtocolName = "single"
    model: str | None = Field(default=None, description="Profile name (None: the default).")
    iterations: int = Field(default=1, ge=1)
    workers: int = Field(default=1, ge=1)
    out: Path
    resume: bool = False
    tasks: list[str] | None = Field(default=None, description="Task names of the suite to run.")
    rounds: list[list[str]] | None = Field(
        default=None,
        description="Task names per pass (fresh instances each iteration): pass i runs "
        "rounds[i-1]; replaces tasks and iterations.",
    )
    transfer_suite: str | None = None
    transfer_tasks: list[str] | None = None
    memory_from: Path | None = Field(
        default=None,
        description="A store folder or snapshot .db to start from (transfer: "
        "the learned store, so the learning phase is skipped).",
    )
    max_steps: int | None = Field(default=None, ge=1, description="Overrides the tasks' limit.")
    time_limit_s: float | None = Field(default=None, gt=0, description="Overrides tasks' limit.")
    suites_root: Path = SUITES_DIR
    command: str = ""
    ray: str | None = Field(
        default=None,
        description="Run the attempts on a Ray cluster: 'auto' (the one this machine joined) "
        "or the head's ADDRESS (host:port); None runs them in this process.",
    )
    endpoints: list[str] | None = Field(
        default=None,
        description="With ray: model endpoints (OpenAI-compatible base URLs), worker i uses "
        "endpoint i modulo their number; None: the profile's own (a local profile starts "
        "one server per worker).",
    )


class BenchEvent(BaseModel):
    """Something the runner did, for a progress display."""

    kind: str = Field(description="plan, skip, task_start, task_done, iteration_done, note")
    key: TaskKey | None = None
    result: TaskResult | None = None
    iteration: IterationRecord | None = None
    worker: int = 0
    total: int = 0
    text: str = ""


EventSink = Callable[[BenchEvent], None]


class BenchSummary(BaseModel):
    """What a call of :func:`run_bench` did."""

    out: Path
    protocol: ProtocolName
    ran: int = 0
    skipped: int = 0
    results: list[TaskResult] = Field(default_factory=list)

    @property
    def mean_score(self) -> float:
        """Mean score over every result of this protocol in the folder."""
        return sum(r.score for r in self.results) / len(self.results) if self.results else 0.0


@dataclass
class BenchModel:
    """The run's model and what names it in the results and the manifest."""

    llm: LLM | None  # None on a Ray driver: each worker builds its own (see evals/bench/ray.py)
    spec: str
    profile: str
    name: str
    sha256: str | None
    hook: str | None = None  # ``module:function`` of ``$JOURNEYMAN_LLM``, if that built it


@dataclass
class BenchRun:
    """State shared by the workers of one call."""

    settings: Settings
    config: BenchConfig
    results: ResultsStore
    model: BenchModel
    envs: list[Environment]
    on_event: EventSink | None
    done: dict[TaskKey, TaskResult] = field(default_factory=dict)
    ran: int = 0
    skipped: int = 0

    def emit(self, event: BenchEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
