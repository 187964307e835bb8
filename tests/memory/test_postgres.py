"""The PostgreSQL backend beyond the contract suite: concurrent writer processes, SIGKILL,
a Chroma server that holds another model's vectors or is down, bad URLs, and moving a
store between SQLite and PostgreSQL. Real PostgreSQL and a real ``chroma run`` (shared by
the session, a database per store)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chroma_server import ChromaServer, free_port

from memory import (
    InvalidInput,
    MemorySettings,
    MemoryStore,
    StoreLocked,
    StoreUnreachable,
)
from memory.serverindex import ServerIndex

WORKER = Path(__file__).with_name("_worker.py")
OPS = 1000
Settings = Callable[..., MemorySettings]


def _env(settings: MemorySettings) -> dict[str, str]:
    extra = {"backend": "postgres", "url": settings.url, "index_url": settings.index_url}
    return {**os.environ, "JM_TEST_STORE_SETTINGS": json.dumps(extra)}


def _versions_consistent(store: MemoryStore, items: list[Any]) -> None:
    """Every item's history is exactly versions 1..current, each recorded once."""
    for it in items:
        assert [v.version for v in store.history(it.id)] == list(range(1, it.version + 1))


def test_the_store_is_postgres_with_its_index_on_the_server(
    pg_store_settings: Settings, tmp_path: Path
) -> None:
    settings = pg_store_settings()
    with MemoryStore.open(tmp_path / "m", settings=settings) as store:
        store.add(level="procedural", scope="app/a", title="Close a ticket", content="Resolve it.")
        assert store.backend.name == "postgres" and isinstance(store.index, ServerIndex)
        assert store.owns_index and store.index.count() == 1
        assert not (tmp_path / "m" / "memory.db").exists()  # nothing local but snapshots
        assert not (tmp_path / "m" / "index").exists()
        # a second writer process's view: not the owner, same data
        with MemoryStore.open(tmp_path / "other", settings=settings) as second:
            assert not second.owns_index
            assert second.search("close a ticket", k=1)[0].item.title == "Close a ticket"


def test_two_writer_processes_lose_nothing(pg_store_settings: Settings, tmp_path: Path) -> None:
    settings = pg_store_settings()
    path = tmp_path / "mem"
    with MemoryStore.open(path, settings=settings) as store:
        shared = [
            store.add(
                level="strategic", scope="global", title=f"Shared {i}", content=f"lesson {i}"
            ).id
            for i in range(3)
        ]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                "mixed",
                str(tmp_path / name),
                name,
                str(OPS),
                ",".join(shared),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(settings),
        )
        for name in ("a", "b")
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    adds = sum(1 for i in range(OPS) if i % 4 in (0, 1))
    edits = sum(1 for i in range(OPS) if i % 4 == 2)
    credits = sum(1 for i in range(OPS) if i % 4 == 3)
    with MemoryStore.open(path, settings=settings) as store:
        for name in ("a", "b"):
            items = store.list_items(scope=f"app/{name}", limit=None)
            titles = [it.title for it in items]
            assert len(items) == adds and len(set(titles)) == adds  # none lost, none twice
            assert sum(it.version - 1 for it in items) == edits
            _versions_consistent(store, items)
        assert sum(store.get(i).success for i in shared) == 2 * credits
        assert store.stats()["versions"] == 3 + 2 * (adds + edits)
        report = store.verify()
        assert report.ok, report.problems
        assert report.indexed == report.active == 2 * adds + 3
        hits = store.search("Edited by b", level="procedural", k=3)
        assert hits and hits[0].item.scope == "app/b"


def test_sigkill_mid_transaction_loses_nothing_committed(
    pg_store_settings: Settings, tmp_path: Path
) -> None:
    settings = pg_store_settings()
    committed: set[str] = set()
    retired: set[str] = set()
    rng = random.Random(5)
    for rnd in range(2):  # killed at random moments
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "crash", str(tmp_path / "m"), f"w{rnd}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(settings),
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first, proc.stderr.read() if proc.stderr else ""
        committed.add(first.strip())
        time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "retired":
                retired.add(parts[1])
            elif len(parts) == 1:
                committed.add(parts[0])
    # killed for certain inside a transaction that has written its rows and holds the lock
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), "hang", str(tmp_path / "m"), "h"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(settings),
    )
    assert proc.stdout is not None
    lines = []
    while (line := proc.stdout.readline().strip()) != "inside":
        assert line, proc.stderr.read() if proc.stderr else ""
        lines.append(line)
    committed.update(lines)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    fast = settings.model_copy(update={"lock_timeout_s": 5})
    with MemoryStore.open(tmp_path / "m", settings=fast) as store:
        found = {it.id: it for it in store.get_many(sorted(committed))}
        assert set(found) == committed
        assert all(found[i].status == "retired" for i in retired)
        assert not [it for it in store.list_items(scope="app/h", limit=None) if "lost" in it.title]
        # bulk adds are all or nothing
        bulk: dict[str, int] = {}
        for it in store.list_items(level="procedural", limit=None):
            if " bulk " in it.title:
                group = it.title.rsplit(".", 1)[0]
                bulk[group] = bulk.get(group, 0) + 1
        assert all(n == 20 for n in bulk.values()), bulk
        _versions_consistent(store, list(found.values()))
        # the dead writer's lock went with its connection: writing works at once
        store.add(level="tool", scope="tool/x", title="after the crash", content="fine")
        report = store.verify()
        assert report.ok, report.problems
        assert report.indexed == report.active


def test_an_index_of_another_model_is_re_embedded(
    pg_store_settings: Settings, chroma_server: ChromaServer, tmp_path: Path
) -> None:
    int8 = pg_store_settings(embedding_compute="int8")
    with MemoryStore.open(tmp_path / "m", settings=int8) as store:
        ids = [
            store.add(level="procedural", scope="app/a", title=f"Task {i}", content=f"Step {i}.").id
            for i in range(4)
        ]
        int8_model = store.model_id
        prefix = store.index.prefix  # type: ignore[attr-defined]
    as_float = int8.model_copy(update={"embedding_compute": "float"})
    with MemoryStore.open(tmp_path / "m", settings=as_float) as store:
        assert store.model_id != int8_model
        assert any("embedding model changed" in r for r in store.repairs), store.repairs
        assert store.index.state.model == store.model_id and store.index.count() == 4
        float_model = store.model_id
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    col = client.get_collection(f"{prefix}-procedural")
    assert col.metadata["embedding_model"] == float_model and col.metadata["dim"] == 384
    # a collection whose vectors say they are another model's: rebuilt, never mixed
    col.modify(metadata={"embedding_model": int8_model, "dim": 384})
    with MemoryStore.open(tmp_path / "m", settings=as_float) as store:
        assert any("rebuilt" in r for r in store.repairs), store.repairs
        assert store.search("task 2", k=1)[0].item.id == ids[2]
        assert store.verify().ok
    col = client.get_collection(f"{prefix}-procedural")
    assert col.metadata["embedding_model"] == float_model


def test_unreachable_servers_and_bad_urls_are_one_line(
    pg_cluster: Any, pg_store_settings: Settings, tmp_path: Path
) -> None:
    def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
        msg = str(exc.value)
        assert "\n" not in msg and len(msg) < 600
        return msg

    down = f"postgresql://u:secret@127.0.0.1:{free_port()}/mem"
    with pytest.raises(StoreUnreachable) as exc:
        MemoryStore.open(tmp_path / "a", settings=MemorySettings(backend="postgres", url=down))
    msg = one_line(exc)
    assert "cannot reach the PostgreSQL memory store" in msg and "secret" not in msg
    missing_db = pg_cluster.url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(StoreUnreachable) as exc:
        MemoryStore.open(
            tmp_path / "b", settings=MemorySettings(backend="postgres", url=missing_db)
        )
    assert "no_such_db" in one_line(exc)
    for bad in (
        MemorySettings(backend="postgres"),
        MemorySettings(backend="postgres", url="mysql://u@h/db"),
        MemorySettings(backend="postgres", url=pg_cluster.url, index_url="ftp://h:1"),
        MemorySettings(index_url="http://127.0.0.1:8000"),  # a server index needs postgres
    ):
        with pytest.raises(InvalidInput) as exc:
            MemoryStore.open(tmp_path / "c", settings=bad)
        one_line(exc)
    # a Chroma server that is down: refused in one line, and nothing is lost
    settings = pg_store_settings()
    with MemoryStore.open(tmp_path / "d", settings=settings) as store:
        item = store.add(level="procedural", scope="app/a", title="Keep me", content="Safe.")
    gone = settings.model_copy(update={"index_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(StoreUnreachable) as exc:
        MemoryStore.open(tmp_path / "d", settings=gone)
    assert "cannot reach the Chroma server" in one_line(exc)
    with MemoryStore.open(tmp_path / "d", settings=settings) as store:
        assert store.get(item.id).title == "Keep me" and store.verify().ok
    # the writer lock: a second writer that cannot get it says so in one line
    quick = settings.model_copy(update={"lock_timeout_s": 0.3})
    with MemoryStore.open(tmp_path / "d", settings=settings) as store:
        with MemoryStore.open(tmp_path / "e", settings=quick) as other:
            with store.db.locked():
                with pytest.raises(StoreLocked) as lock_exc:
                    other.add(level="tool", scope="tool/x", title="t", content="c")
                one_line(lock_exc)
            other.add(level="tool", scope="tool/x", title="t", content="c")  # free again


def test_a_store_moves_between_sqlite_and_postgres(
    pg_store_settings: Settings, tmp_path: Path
) -> None:
    with MemoryStore.open(tmp_path / "local") as lite:
        ids = [
            lite.add(level="procedural", scope="app/a", title=f"Local {i}", content=f"Do {i}.").id
            for i in range(3)
        ]
        lite.update(ids[0], content="Do zero, carefully.")
        lite.record_outcome([ids[1]], success=True, episode_id="ep-1")
        ep = lite.archive_episode(task="Do one", outcome="success", items_used=[ids[1]])
    settings = pg_store_settings()
    with MemoryStore.open(tmp_path / "team", settings=settings) as pg:
        pg.import_snapshot(tmp_path / "local", "from-laptop")
        pg.restore("from-laptop")
        assert [pg.get(i).title for i in ids] == ["Local 0", "Local 1", "Local 2"]
        assert [v.version for v in pg.history(ids[0])] == [1, 2]
        assert pg.get(ids[1]).success == 1 and pg.get_episode(ep).task == "Do one"
        assert pg.search("do zero carefully", k=1)[0].item.id == ids[0]
        assert pg.search("zero carefully", k=1, mode="bm25")[0].item.id == ids[0]
        assert pg.verify().ok
        later = pg.add(level="tool", scope="tool/x", title="Team tip", content="Shared.").id
        snap = pg.snapshot("team")
    with MemoryStore.open(tmp_path / "back") as lite:  # and back: snapshots are SQLite files
        lite.import_snapshot(snap, "team")
        lite.restore("team")
        assert lite.get(later).title == "Team tip" and lite.verify().ok
