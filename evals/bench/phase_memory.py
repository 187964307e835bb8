"""The memory of a benchmark phase: none, the store carried across tasks (put back to the
last recorded task on resume), or a fresh frozen copy of a learned one. Everything goes
through the store's API (snapshots, restore), never its files."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from evals.bench.config import BenchError, BenchEvent, BenchRun
from evals.bench.protocols import PhasePlan
from evals.bench.records import TaskResult

if TYPE_CHECKING:
    from memory import MemoryStore

START_SNAPSHOT = "bench-start"


def record(
    run: BenchRun,
    phase: PhasePlan,
    store: MemoryStore | None,
    result: TaskResult,
    *,
    alone: bool = True,
) -> None:
    """Append the result; for a carried store, keep the snapshot --resume returns to.

    ``alone``: no other attempt of the run was started and unfinished at this point. Only
    then does the store hold exactly what the recorded attempts wrote; a snapshot taken
    beside a running attempt would also hold part of that attempt's writes, and a resumed
    run would give the attempt its own earlier lessons. Such a result gets no snapshot:
    ``--resume`` returns to the last one that has one and runs the results after it again.
    """
    carried = store is not None and phase.memory == "carry" and alone
    previous = last_carried(run) if carried else None
    if store is not None and carried:
        name = f"bench-task-{uuid.uuid4().hex[:10]}"
        store.snapshot(name)
        stats = store.stats()
        result.memory_snapshot = name
        result.memory_changes = int(stats["changes"])
    run.results.append(result)
    run.done[result.key] = result
    run.ran += 1
    if store is not None and previous is not None and previous.memory_snapshot:
        store.drop_snapshot(previous.memory_snapshot)  # the new one supersedes it


def last_carried(run: BenchRun) -> TaskResult | None:
    """This protocol's latest result with a snapshot of the carried store."""
    mine = [
        r
        for r in run.done.values()
        if r.protocol == run.config.protocol and r.memory_mode == "carry" and r.memory_snapshot
    ]
    return max(mine, key=lambda r: r.finished_at) if mine else None


def memory_dir(out: Path, protocol: str, mode: str) -> Path:
    """Where a protocol keeps its store (``frozen``: the copy the transfer phase reads)."""
    return Path(out) / "memory" / (f"{protocol}-frozen" if mode == "frozen" else protocol)


@contextlib.asynccontextmanager
async def phase_memory(run: BenchRun, phase: PhasePlan) -> AsyncIterator[MemoryStore | None]:
    """The store of a phase: none, the carried one (put back to the last recorded task on
    resume), or a fresh frozen copy of the learned one."""
    from memory import MemoryStore

    if phase.memory == "off":
        yield None
        return
    protocol = run.config.protocol
    settings = run.settings.memory
    if phase.memory == "carry":
        path = memory_dir(run.config.out, protocol, "carry")
        fresh = not MemoryStore.exists(path)
        if fresh:
            recorded = [
                r for r in run.done.values() if r.protocol == protocol and r.memory_mode == "carry"
            ]
            if recorded:
                raise BenchError(
                    f"--resume: the {protocol} run has {len(recorded)} recorded task(s) that "
                    f"carried memory, but its store is missing from {path}; a fresh store "
                    "would continue the run without what they learned. Put that folder back "
                    "(it is not committed with the results), or start over in a new folder."
                )
        store = MemoryStore.open(path, settings=settings)
        try:
            if fresh:
                if run.config.memory_from is not None:
                    seed(store, run.config.memory_from)
                store.snapshot(START_SNAPSHOT, overwrite=True)
                set_start_changes(run, int(store.stats()["changes"]))
            else:
                rewind(run, store)
            yield store
        finally:
            store.close()
        return
    source = run.config.memory_from or memory_dir(run.config.out, protocol, "carry")
    path = memory_dir(run.config.out, protocol, "frozen")
    shutil.rmtree(path, ignore_errors=True)
    store = MemoryStore.open(path, settings=settings)
    try:
        seed(store, source)
        yield store
    finally:
        store.close()


def seed(store: MemoryStore, source: Path) -> None:
    """Fill ``store`` with the content of another store folder or snapshot file."""
    from memory import ItemNotFound

    try:
        store.import_snapshot(source, "bench-seed", overwrite=True)
    except ItemNotFound as exc:
        raise BenchError(str(exc)) from exc
    store.restore("bench-seed", actor="bench")


def set_start_changes(run: BenchRun, changes: int) -> None:
    manifest = run.results.manifest()
    entry = manifest.runs[run.config.protocol]
    manifest.runs[run.config.protocol] = entry.model_copy(update={"memory_start_changes": changes})
    run.results.save_manifest(manifest)


def rewind(run: BenchRun, store: MemoryStore) -> None:
    """Undo what a killed task wrote: return to the snapshot of the last recorded task
    (the last one recorded alone, see :func:`record`; those recorded beside it run again)."""
    last = last_carried(run)
    unsettled = [
        r
        for r in run.done.values()
        if r.protocol == run.config.protocol
        and r.memory_mode == "carry"
        and r.memory_snapshot is None
        and (last is None or r.finished_at > last.finished_at)
    ]
    if unsettled:
        for r in unsettled:
            del run.done[r.key]
        run.emit(
            BenchEvent(
                kind="note",
                text=f"resume: {len(unsettled)} finished task(s) run again (they ended while "
                "other tasks ran, so the store cannot be put back to right after them)",
            )
        )
    if last is not None and last.memory_snapshot:
        name, changes = last.memory_snapshot, last.memory_changes
    else:
        entry = run.results.manifest().runs[run.config.protocol]
        name, changes = START_SNAPSHOT, entry.memory_start_changes
        if not any(s["name"] == name for s in store.snapshots()):
            store.snapshot(name)  # killed before the start was recorded: start from here
            set_start_changes(run, int(store.stats()["changes"]))
            return
    if changes is not None and int(store.stats()["changes"]) == changes:
        return
    run.emit(BenchEvent(kind="note", text=f"memory put back to snapshot {name}"))
    store.restore(name, actor="bench")
