"""Typed records of a benchmark run: one line per finished task, one per finished iteration.

A run folder holds ``manifest.json`` (what was asked, per protocol), ``results.jsonl``
(:class:`TaskResult` lines, appended as tasks end) and ``iterations.jsonl``
(:class:`IterationRecord` lines, appended as iterations end).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from evals.grading import Checkpoint

ProtocolName = Literal["single", "continual", "transfer", "no-memory"]
PROTOCOLS: tuple[ProtocolName, ...] = ("single", "continual", "transfer", "no-memory")
Phase = Literal["run", "learn", "eval"]
"""``run`` for single/continual/no-memory; ``learn`` and ``eval`` for transfer."""
MemoryMode = Literal["carry", "frozen", "off"]


class TaskKey(BaseModel, frozen=True):
    """What identifies one task attempt in a run folder (``--resume`` skips finished keys)."""

    protocol: ProtocolName
    phase: Phase
    iteration: int = Field(ge=1)
    task: str = Field(description="suite/name")

    def label(self) -> str:
        """A short, file-name-safe label."""
        return f"{self.protocol}.{self.phase}.i{self.iteration}.{self.task.replace('/', '.')}"


class TaskResult(BaseModel):
    """How one task attempt went: grade, cost, memory traffic."""

    protocol: ProtocolName
    phase: Phase
    iteration: int
    task: str
    suite: str
    name: str
    category: str
    family: str
    difficulty: str
    apps: list[str] = Field(default_factory=list)
    model: str = Field(description="The profile name or model hook.")
    memory_mode: MemoryMode
    score: float = 0.0
    full: bool = False
    passed_points: int = 0
    total_points: int = 0
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    outcome: str = Field(description="The agent's outcome, 'timeout' or 'error'.")
    stop_reason: str | None = None
    error: str | None = None
    steps: int = 0
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    agent_s: float = Field(default=0.0, description="Seconds the agent ran.")
    wall_s: float = Field(default=0.0, description="Seconds with reset and grading.")
    items_used: list[str] = Field(default_factory=list, description="Memory items in prompts.")
    items_written: list[str] = Field(default_factory=list, description="Memory items written.")
    memory_active_after: int | None = Field(
        default=None, description="Active memory items after the task."
    )
    memory_snapshot: str | None = Field(
        default=None, description="Store snapshot taken right after the task (for --resume)."
    )
    memory_changes: int | None = Field(
        default=None, description="The store's change counter at that snapshot."
    )
    thread_id: str | None = None
    worker: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def key(self) -> TaskKey:
        """The attempt's key."""
        return TaskKey(
            protocol=self.protocol, phase=self.phase, iteration=self.iteration, task=self.task
        )

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


class IterationRecord(BaseModel):
    """One finished pass over a suite: its mean score and the memory it left behind."""

    protocol: ProtocolName
    phase: Phase
    iteration: int
    suite: str
    tasks: int
    mean_score: float
    full: int
    memory_levels: dict[str, int] = Field(
        default_factory=dict, description="Active items per level after the iteration."
    )
    memory_active: int = 0
    memory_snapshot: str | None = None
    finished_at: float = 0.0


class ProtocolRun(BaseModel):
    """What was asked of one protocol in a run folder (kept in ``manifest.json``)."""

    protocol: ProtocolName
    suite: str
    tasks: list[str] = Field(description="Task ids in run order.")
    rounds: list[list[str]] = Field(
        default_factory=list, description="Task names per pass, when each pass had its own."
    )
    transfer_suite: str | None = None
    transfer_tasks: list[str] = Field(default_factory=list)
    iterations: int = 1
    model: str
    model_name: str = ""
    model_sha256: str | None = None
    workers: int = 1
    memory_from: str | None = None
    memory_start_changes: int | None = None
    command: str = ""
    code: str | None = Field(
        default=None,
        description="The commit of the code that ran it ('+changes' when tracked code "
        "differed from it); None outside a git checkout.",
    )
    started_at: float = 0.0


class Manifest(BaseModel):
    """``manifest.json``: every protocol run into this folder."""

    runs: dict[str, ProtocolRun] = Field(default_factory=dict)
