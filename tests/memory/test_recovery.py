"""Damaged files, missing index, newer schema, and writers killed mid-flight."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memory import MemoryStore, SchemaTooNew, StoreCorrupt

WORKER = Path(__file__).with_name("_worker.py")


def _seed(path: Path, n: int = 5) -> list[str]:
    with MemoryStore.open(path) as store:
        return [
            store.add(
                level="procedural", scope="app/x", title=f"Item {i}", content=f"content {i}"
            ).id
            for i in range(n)
        ]


def test_missing_index_is_rebuilt(tmp_path: Path) -> None:
    ids = _seed(tmp_path / "m")
    import shutil

    shutil.rmtree(tmp_path / "m" / "index")
    with MemoryStore.open(tmp_path / "m") as store:
        assert any("rebuilt" in r for r in store.repairs)
        assert store.search("content 3", k=1)[0].item.id == ids[3]
        assert store.verify().ok


def test_stale_index_is_repaired_on_open(tmp_path: Path) -> None:
    ids = _seed(tmp_path / "m")
    db = sqlite3.connect(tmp_path / "m" / "memory.db")  # a change the index never saw
    db.execute("UPDATE items SET status = 'retired' WHERE id = ?", (ids[0],))
    db.commit()
    db.close()
    with MemoryStore.open(tmp_path / "m") as store:
        assert store.repairs and "repaired" in store.repairs[0]
        assert ids[0] not in [h.item.id for h in store.search("content 0", k=5)]
        assert store.verify().ok


def test_vectors_of_an_older_representation_are_re_embedded(tmp_path: Path) -> None:
    """A store whose vectors embed the whole text (before field vectors) is reindexed."""
    import json

    from memory.embeddings import MINILM_INT8_MODEL_ID, MINILM_MODEL_ID

    ids = _seed(tmp_path / "m")
    db = sqlite3.connect(tmp_path / "m" / "memory.db")
    db.execute("UPDATE item_vectors SET model = ?", (MINILM_MODEL_ID,))
    db.commit()
    db.close()
    state_file = tmp_path / "m" / "index" / "index-state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps(state | {"model": MINILM_MODEL_ID}))
    with MemoryStore.open(tmp_path / "m") as store:
        assert any("embedding model changed" in r for r in store.repairs), store.repairs
        assert store.model_id == MINILM_INT8_MODEL_ID + "+fields"
        assert store.search("content 2", k=1)[0].item.id == ids[2]
        assert store.verify().ok
    db = sqlite3.connect(tmp_path / "m" / "memory.db")
    models = {r[0] for r in db.execute("SELECT model FROM item_vectors")}
    db.close()
    assert models == {MINILM_INT8_MODEL_ID + "+fields"}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    _seed(tmp_path / "m", 1)
    db = sqlite3.connect(tmp_path / "m" / "memory.db")
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    for readonly in (False, True):
        with pytest.raises(SchemaTooNew, match="upgrade journeyman"):
            MemoryStore.open(tmp_path / "m", readonly=readonly)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-a-store"])
def test_damaged_sqlite_file_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "m"
    ids = _seed(path, 40)
    db = path / "memory.db"
    data = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    else:
        db.unlink()
        other = sqlite3.connect(db)
        other.execute("CREATE TABLE unrelated (x)")
        other.commit()
        other.close()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with pytest.raises(StoreCorrupt) as err:
        with MemoryStore.open(path) as store:
            store.get(ids[0])  # pragma: no cover - open must already fail
    assert str(err.value) and err.value.exit_code == 2


@pytest.mark.slow
def test_sigkilled_writer_loses_no_committed_item(tmp_path: Path) -> None:
    path = tmp_path / "m"
    rng = random.Random(4)
    committed: set[str] = set()
    retired: set[str] = set()
    for _round in range(20):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "crash", str(path), f"w{_round}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the store is open and writing
        assert first, proc.stderr.read() if proc.stderr else ""
        committed.add(first.strip())
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "retired":
                retired.add(parts[1])
            elif len(parts) == 1:
                committed.add(parts[0])
    with MemoryStore.open(path) as store:
        found = {it.id: it for it in store.get_many(sorted(committed))}
        assert set(found) == committed
        assert all(found[i].status == "retired" for i in retired)
        report = store.verify()
        assert report.ok, report.problems
        assert report.indexed == report.active
