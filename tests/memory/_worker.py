"""Subprocess writers for the concurrency and crash tests (run as ``python _worker.py``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from memory import MemorySettings, MemoryStore

#: JSON of extra settings (a PostgreSQL store's backend, url and index_url), if any.
SETTINGS_ENV = "JM_TEST_STORE_SETTINGS"


def _settings() -> MemorySettings:
    extra = json.loads(os.environ.get(SETTINGS_ENV) or "{}")
    return MemorySettings(lock_timeout_s=60, **extra)


def mixed(path: str, name: str, ops: str, shared: str) -> None:
    """Alternate adds, edits of own items and counter updates on shared items."""
    shared_ids = shared.split(",")
    with MemoryStore.open(path, settings=_settings()) as store:
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
    with MemoryStore.open(path, settings=_settings()) as store:
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


def hang(path: str, name: str) -> None:
    """Commit five adds (printing their ids), then stop inside a sixth add's transaction,
    after its rows are written, printing ``inside``: the test kills the process there."""
    import time

    with MemoryStore.open(path, settings=_settings()) as store:
        for i in range(5):
            print(
                store.add(
                    level="procedural",
                    scope=f"app/{name}",
                    title=f"{name} kept {i}",
                    content=f"committed item {i}",
                ).id,
                flush=True,
            )
        real = store._put_item_vectors

        def stall(s, rows):  # type: ignore[no-untyped-def]
            real(s, rows)
            s.flush()
            print("inside", flush=True)
            time.sleep(3600)

        store._put_item_vectors = stall  # type: ignore[method-assign]
        store.add_many(
            [
                {
                    "level": "procedural",
                    "scope": f"app/{name}",
                    "title": f"{name} lost {j}",
                    "content": f"uncommitted item {j}",
                }
                for j in range(3)
            ]
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    {"mixed": mixed, "crash": crash, "hang": hang}[sys.argv[1]](*sys.argv[2:])  # type: ignore[operator]
