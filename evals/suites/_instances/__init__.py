"""Task instances generated from a seed: fresh data, people, ids and wording per instance.

    spec = instance("expenses", "micro", seed=7)          # a TaskSpec (evals/suites/_spec.py)
    write_instances([spec], Path("out/instances"))        # -> out/instances/<suite>/<name>/

Each family module has a generator per tier (``TIERS``); a generator takes a seeded
:class:`random.Random` and returns the spec of one task folder (task.md, task.yaml with its
grader, oracle and seed data), so a continual run can draw new instances every iteration
and memory has to carry how a task is done, not its answer. The fixed suites
(``_families.py``) are untouched by this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from evals.suites._instances import expenses, it_support, meetings, onboarding, sales, triage
from evals.suites._instances._common import instance_name, rng_for
from evals.suites._spec import TaskSpec

Generator = Callable[..., TaskSpec]
FAMILIES: dict[str, dict[str, Generator]] = {
    "expenses": expenses.TIERS,
    "sales-report": sales.TIERS,
    "ticket-triage": triage.TIERS,
    "it-support": it_support.TIERS,
    "meetings": meetings.TIERS,
    "onboarding": onboarding.TIERS,
}
"""Family -> tier -> generator."""
TIERS = ("micro", "short")
SUITE = "instances"


class UnknownInstance(ValueError):
    """No generator for this family and tier (the message lists what exists)."""


def tiers(family: str) -> list[str]:
    """The tiers a family generates."""
    if family not in FAMILIES:
        raise UnknownInstance(f"no instance family {family!r} (have: {', '.join(FAMILIES)})")
    return list(FAMILIES[family])


def instance(family: str, tier: str, seed: int, *, suite: str = SUITE) -> TaskSpec:
    """The instance of ``family`` at ``tier`` for ``seed`` (the same seed, the same task)."""
    if tier not in tiers(family):
        raise UnknownInstance(f"family {family!r} has no {tier!r} tier (have: {tiers(family)})")
    name = instance_name(family, tier, seed)
    return FAMILIES[family][tier](rng_for(family, tier, seed), suite, name)


def write_instances(specs: Iterable[TaskSpec], root: Path) -> list[Path]:
    """Write task folders ``root/<suite>/<name>/`` (task.md, task.yaml); return them."""
    folders = []
    for t in specs:
        folder = Path(root) / t.suite / t.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "task.md").write_text(t.text)
        (folder / "task.yaml").write_text(
            yaml.safe_dump(t.spec, sort_keys=False, allow_unicode=True, width=100)
        )
        folders.append(folder)
    return folders


__all__ = [
    "FAMILIES",
    "SUITE",
    "TIERS",
    "UnknownInstance",
    "instance",
    "tiers",
    "write_instances",
]
