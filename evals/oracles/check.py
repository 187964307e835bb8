"""Prove tasks solvable and graders able to fail: oracle -> 1.0, null run -> 0.0.

``python -m evals.oracles.check [SUITE ...] [--task NAME ...] [--dir RUN_DIR]`` runs, for
every task (and with ``--instances 1,2,3`` every generated family and tier on those seeds), the null run (reset, seed, grade) and the oracle (reset, seed, solve with
tool calls, grade) in one run folder, prints a line per task, and exits 1 on any miss.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from evals.acme.manager import Environment
from evals.oracles.runner import run_null, run_oracle
from evals.tasks import Task, load_suite


class CheckResult(BaseModel):
    """Oracle and null scores of one task."""

    task_id: str
    oracle: float
    null: float
    oracle_calls: int
    seconds: float
    failed: list[str]

    @property
    def ok(self) -> bool:
        """Oracle full marks and null zero."""
        return self.oracle == 1.0 and self.null == 0.0


async def check_task(task: Task, env: Environment, work: Path) -> CheckResult:
    """Null run then oracle run of one task."""
    t0 = time.monotonic()
    null = run_null(task, env, work / task.suite / task.name / "null")
    oracle, calls = await run_oracle(task, env, work / task.suite / task.name / "oracle")
    failed = [c.name for c in oracle.checkpoints if not c.passed]
    failed += [f"null passed everything: {c.name}" for c in null.checkpoints if null.full]
    return CheckResult(
        task_id=task.id,
        oracle=oracle.score,
        null=null.score,
        oracle_calls=calls,
        seconds=round(time.monotonic() - t0, 2),
        failed=failed,
    )


async def check_tasks(tasks: list[Task], env: Environment, work: Path) -> list[CheckResult]:
    """Check tasks one after another (they share the run folder's apps)."""
    return [await check_task(t, env, work) for t in tasks]


def _instances(seeds: list[int], root: Path) -> list[Task]:
    """Every family and tier of the instance generators on ``seeds``, as tasks."""
    from evals.suites._instances import FAMILIES, SUITE, instance, write_instances

    write_instances([instance(f, t, s) for f in FAMILIES for t in FAMILIES[f] for s in seeds], root)
    return load_suite(SUITE, root)


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suites", nargs="*", default=["smoke", "acme", "acme-transfer"])
    parser.add_argument("--task", action="append", help="only these task names")
    parser.add_argument("--dir", type=Path, help="run folder (default: a temporary one)")
    parser.add_argument("--instances", help="seeds (e.g. 1,2,3): also every generated instance")
    args = parser.parse_args(argv)
    tasks = [t for s in args.suites for t in load_suite(s)]
    if args.task:
        tasks = [t for t in tasks if t.name in args.task]
    with tempfile.TemporaryDirectory(prefix="acme-check-") as tmp:
        if args.instances:
            tasks += _instances([int(s) for s in args.instances.split(",")], Path(tmp) / "suites")
        run_dir = args.dir or Path(tmp) / "run"
        env = Environment(run_dir)
        try:
            results = asyncio.run(check_tasks(tasks, env, Path(tmp) / "work"))
        finally:
            if args.dir:
                env.down()
            else:
                env.purge()
    bad = 0
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        bad += not r.ok
        print(
            f"{mark} {r.task_id:45s} oracle={r.oracle:.2f} null={r.null:.2f} "
            f"calls={r.oracle_calls:3d} {r.seconds:5.1f}s {'; '.join(r.failed)}"
        )
    print(f"{len(results) - bad}/{len(results)} tasks: oracle 1.0 and null 0.0")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
