"""Subprocess writers for the concurrency and crash tests (run as ``python _worker.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

from memory import MemorySettings, MemoryStore


def mixed(path: str, name: str, ops: str, shared: str) -> None:
    """Alternate adds, edits of own items and counter updates on shared items."""
    shared_ids = shared.split(",")
    with MemoryStore.open(path, settings=MemorySettings(lock_timeout_s=60)) as store:
        print("ready", flush=True)
        mine: list[str] = []
        for i in range(int(ops)):
            kind = i % 4
            if kind in (0, 1) or not mine:
                it = store.add(
                    level="procedural",
                    scope=f"app/{name}",
                    title=f"{name} item {i}",
                    content=f"Step list number {i} written by worker {name}.",
                )
                mine.append(it.id)
            elif kind == 2:
                store.update(mine[i % len(mine)], content=f"Edited by {name} at op {i}.")
            else:
                store.record_outcome([shared_ids[i % len(shared_ids)]], success=True)
        print("done", len(mine), flush=True)


def crash(path: str, name: str) -> None:
    """Add items forever, printing each id once its transaction has committed."""
    with MemoryStore.open(path, settings=MemorySettings(lock_timeout_s=60)) as store:
        i = 0
        while True:
            if i % 5 == 4:
                recs = [
                    {
                        "level": "procedural",
                        "scope": f"app/{name}",
                        "title": f"{name} bulk {i}.{j}",
                        "content": f"bulk item {i}.{j}",
                    }
                    for j in range(20)
                ]
                for it in store.add_many(recs):
                    print(it.id, flush=True)
            else:
                it = store.add(
                    level="tool",
                    scope=f"tool/{name}",
                    title=f"{name} {i}",
                    content=f"tip number {i}",
                )
                print(it.id, flush=True)
                if i % 3 == 0:
                    store.retire(it.id)
                    print("retired", it.id, flush=True)
            i += 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    {"mixed": mixed, "crash": crash}[sys.argv[1]](*sys.argv[2:])  # type: ignore[operator]
