"""Write the task folders of every suite from the family definitions.

``python -m evals.suites._build`` regenerates ``evals/suites/{smoke,acme,acme-transfer}``
deterministically (same output every run); the folders are committed. Each task gets a
``task.md`` (what the agent reads, with URL placeholders) and a ``task.yaml``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import yaml

from evals.suites._families import all_tasks
from evals.suites._spec import TaskSpec

ROOT = Path(__file__).parent
SUITES = ("smoke", "acme", "acme-transfer")


def write_all(specs: Iterable[TaskSpec], root: Path = ROOT) -> None:
    """Replace the suites' folders under ``root`` with the given tasks."""
    for suite in SUITES:
        shutil.rmtree(root / suite, ignore_errors=True)
    for t in specs:
        folder = root / t.suite / t.name
        folder.mkdir(parents=True)
        (folder / "task.md").write_text(t.text)
        (folder / "task.yaml").write_text(
            yaml.safe_dump(t.spec, sort_keys=False, allow_unicode=True, width=100)
        )


def main() -> None:
    """Write every family's tasks."""
    specs = all_tasks()
    write_all(specs)
    counts = {s: sum(1 for t in specs if t.suite == s) for s in SUITES}
    print("wrote", ", ".join(f"{s}: {n}" for s, n in counts.items()))


if __name__ == "__main__":
    main()
