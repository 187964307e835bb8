"""Two processes writing one store at the same time lose nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from memory import MemorySettings, MemoryStore

WORKER = Path(__file__).with_name("_worker.py")
OPS = 1000


def test_two_writer_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mem"
    with MemoryStore.open(path) as store:
        shared = [
            store.add(
                level="strategic", scope="global", title=f"Shared {i}", content=f"lesson {i}"
            ).id
            for i in range(3)
        ]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "mixed", str(path), name, str(OPS), ",".join(shared)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outs = [p.communicate(timeout=500) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    adds = {name: sum(1 for i in range(OPS) if i % 4 in (0, 1)) for name in ("a", "b")}
    edits = sum(1 for i in range(OPS) if i % 4 == 2)
    credits = sum(1 for i in range(OPS) if i % 4 == 3)
    with MemoryStore.open(path, settings=MemorySettings()) as store:
        for name in ("a", "b"):
            items = store.list_items(scope=f"app/{name}", limit=None)
            assert len(items) == adds[name]
            assert sum(it.version - 1 for it in items) == edits
        total = sum(store.get(i).success for i in shared)
        assert total == 2 * credits
        report = store.verify()
        assert report.ok, report.problems
        assert report.indexed == report.active == adds["a"] + adds["b"] + 3
        hits = store.search("Edited by b", level="procedural", k=3)
        assert hits and hits[0].item.scope == "app/b"
