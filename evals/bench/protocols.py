"""Learning protocols as plans of phases: which tasks, how many passes, what memory does.

=============  =================================================================
``single``     one pass over the suite, memory on and learning
``continual``  K passes over the suite with one store carried across them
``no-memory``  K passes with memory off (the baseline); with a transfer suite, also
               one pass over it with memory off (the transfer baseline)
``transfer``   learn on the suite (K passes), then one pass over another suite
               with a frozen copy of the learned store (learning off)
=============  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from evals.bench.records import MemoryMode, Phase, ProtocolName
from evals.tasks import Task


@dataclass(frozen=True)
class PhasePlan:
    """One phase: passes over a list of tasks with one memory mode."""

    phase: Phase
    suite: str
    tasks: list[Task]
    iterations: int
    memory: MemoryMode
    rounds: list[list[Task]] | None = None
    """Tasks per pass (fresh instances each iteration); None: ``tasks`` every pass."""

    def tasks_at(self, iteration: int) -> list[Task]:
        """The tasks of pass ``iteration`` (1-based)."""
        return self.rounds[iteration - 1] if self.rounds else self.tasks

    @property
    def attempts(self) -> int:
        """Task attempts over all passes."""
        return sum(len(self.tasks_at(i)) for i in range(1, self.iterations + 1))

    @property
    def learn(self) -> bool:
        """Whether the agent writes memory in this phase."""
        return self.memory == "carry"


def plan_protocol(
    protocol: ProtocolName,
    *,
    suite: str,
    tasks: list[Task],
    iterations: int = 1,
    transfer_suite: str | None = None,
    transfer_tasks: list[Task] | None = None,
    learned: bool = False,
    rounds: list[list[Task]] | None = None,
) -> list[PhasePlan]:
    """The phases of ``protocol``; ``learned=True`` (transfer) skips the learning phase.

    ``rounds`` gives each pass its own tasks (fresh instances per iteration): the passes
    over ``suite`` then number ``len(rounds)`` and ``tasks`` is their union."""
    if rounds:
        tasks, iterations = [t for r in rounds for t in r], len(rounds)
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    if protocol == "single":
        return [PhasePlan("run", suite, tasks, 1, "carry")]
    if protocol == "continual":
        return [PhasePlan("run", suite, tasks, iterations, "carry", rounds)]
    if protocol == "no-memory":
        phases = [PhasePlan("run", suite, tasks, iterations, "off", rounds)]
        if transfer_suite and transfer_tasks:
            phases.append(PhasePlan("eval", transfer_suite, transfer_tasks, 1, "off"))
        return phases
    if protocol == "transfer":
        if not transfer_suite or not transfer_tasks:
            raise ValueError("the transfer protocol needs a transfer suite with tasks")
        evaluation = PhasePlan("eval", transfer_suite, transfer_tasks, 1, "frozen")
        if learned:
            return [evaluation]
        return [PhasePlan("learn", suite, tasks, iterations, "carry", rounds), evaluation]
    raise ValueError(f"unknown protocol {protocol!r}")
