"""Namespaces on every backend (conftest.BACKENDS): two agents sharing one store see only
what they read, write only what they own; the gate, curation, export and import respect
that; a version-2 store migrates into ``default`` and its old index is repaired."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from memory import (
    InvalidInput,
    ItemNotFound,
    MemorySettings,
    MemoryStore,
    NamespaceNotWritable,
    check_namespace,
)
from memory.index import STATE_FILE, checksum, pair_hash
from memory.namespaces import NamespaceView, parse_namespaces
from memory.records import LEVELS
from memory.schema import SCHEMA_VERSION

SOP_A = ("Close a Trac ticket", "Open Modify Ticket, resolve as fixed, submit. Team A's way.")
SOP_B = ("Close a Trac ticket", "Comment with the commit hash first, then resolve. Team B's way.")


def _ns(namespace: str, *read: str, **kwargs: object) -> MemorySettings:
    return MemorySettings(
        lock_timeout_s=20,
        namespace=namespace,
        read_namespaces=list(read),
        **kwargs,  # type: ignore[arg-type]
    )


def _ids(hits: list) -> set[str]:  # type: ignore[type-arg]
    return {h.item.id for h in hits}


def _procedures(store: MemoryStore, mode: str = "hybrid") -> set[str]:
    """The ids of the procedures a search for closing a ticket finds."""
    return _ids(store.search("close a trac ticket", level="procedural", k=10, mode=mode))


def _two_teams(open_store):  # type: ignore[no-untyped-def]
    a = open_store("mem", settings=_ns("team/a"))
    b = open_store("mem", settings=_ns("team/b"))
    ra = a.propose(level="procedural", scope="app/trac", title=SOP_A[0], content=SOP_A[1])
    # the same title in the same scope: within one namespace it would merge
    rb = b.propose(level="procedural", scope="app/trac", title=SOP_B[0], content=SOP_B[1])
    assert (ra.action, rb.action) == ("created", "created"), (ra.reason, rb.reason)
    assert ra.item is not None and rb.item is not None
    assert (ra.item.namespace, rb.item.namespace) == ("team/a", "team/b")
    la = a.add(level="strategic", scope="global", title="Verify first", content="Team A checks.")
    lb = b.add(level="strategic", scope="global", title="Verify twice", content="Team B checks.")
    ta = a.add(level="tool", scope="tool/shell_run", title="Quote paths", content="A: quote.")
    return a, b, {"sop_a": ra.item.id, "sop_b": rb.item.id, "la": la.id, "lb": lb.id, "ta": ta.id}


def test_two_namespaces_do_not_see_each_other(open_store) -> None:  # type: ignore[no-untyped-def]
    a, b, ids = _two_teams(open_store)
    for mode in ("hybrid", "vector", "bm25"):
        assert _procedures(a, mode) == {ids["sop_a"]}, mode
        assert _procedures(b, mode) == {ids["sop_b"]}, mode
    assert _ids(a.strategic()) == {ids["la"]} and _ids(b.strategic()) == {ids["lb"]}
    assert a.tool_tips(["shell_run"])["shell_run"][0].id == ids["ta"]
    assert b.tool_tips(["shell_run"]) == {"shell_run": []}
    with pytest.raises(ItemNotFound, match="team/a"):
        a.get(ids["sop_b"])
    with pytest.raises(ItemNotFound):
        b.history(ids["sop_a"])
    assert a.get_many([ids["sop_a"], ids["sop_b"]]) == [a.get(ids["sop_a"])]
    assert {it.id for it in a.list_items()} == {ids["sop_a"], ids["la"], ids["ta"]}
    assert a.find_by_title("Verify twice") is None
    assert a.stats()["items"] == 3 and b.stats()["namespaces"] == {"team/b": 2}
    assert {r["scope"] for r in b.tree()} == {"app/trac", "global"}

    # a reader of both sees both, in every retrieval path
    both = open_store("mem", settings=_ns("user/c", "team/a", "team/b"))
    assert both.read_namespaces == ("user/c", "team/a", "team/b")
    for mode in ("hybrid", "vector", "bm25"):
        assert _procedures(both, mode) == {ids["sop_a"], ids["sop_b"]}, mode
    assert _ids(both.strategic()) == {ids["la"], ids["lb"]}
    assert both.get(ids["sop_b"]).namespace == "team/b"
    assert both.stats()["namespaces"] == {"user/c": 0, "team/a": 3, "team/b": 2}
    with pytest.raises(InvalidInput, match="not read"):
        b.list_items(namespaces=["team/a"])
    assert {it.id for it in both.list_items(namespaces=["team/b"])} == {ids["sop_b"], ids["lb"]}


def test_the_vector_index_filters_on_namespace(open_store) -> None:  # type: ignore[no-untyped-def]
    a, b, ids = _two_teams(open_store)
    a.close()
    b.close()
    # HNSW only (no exact in-memory path): Chroma's namespace metadata does the filtering
    hnsw = {"exact_search_max_items": 0}
    only_b = open_store("mem", settings=_ns("team/b", **hnsw))
    assert only_b.owns_index
    assert _procedures(only_b, "vector") == {ids["sop_b"]}
    only_b.close()
    both = open_store("mem", settings=_ns("team/a", "team/b", **hnsw))
    assert _procedures(both, "vector") == {ids["sop_a"], ids["sop_b"]}
    assert {ns for _l, _v, ns in both.index.entries().values()} == {"team/a", "team/b"}
    # HNSW filters only when the store holds a namespace the search does not read
    assert both._namespaces_held() == {"team/a", "team/b"}


def test_writes_stay_in_the_written_namespace(open_store) -> None:  # type: ignore[no-untyped-def]
    a, b, ids = _two_teams(open_store)
    reader = open_store("mem", settings=_ns("team/b", "team/a"))
    sop_a = ids["sop_a"]
    # reading another namespace is not writing it: every change is refused, one line
    for change in (
        lambda: reader.retire(sop_a),
        lambda: reader.update(sop_a, content="changed"),
        lambda: reader.quarantine(sop_a),
        lambda: reader.approve(sop_a),
        lambda: reader.revert(sop_a, 1),
        lambda: reader.note(sop_a, reason="used"),
        lambda: reader.purge(sop_a),
        lambda: reader.propose(
            level="procedural", scope="app/trac", title="x", content="y", supersedes=sop_a
        ),
    ):
        with pytest.raises(NamespaceNotWritable, match="namespace 'team/a'") as err:
            change()
        assert "\n" not in str(err.value)
    with pytest.raises(ItemNotFound):  # unreadable: as if it did not exist
        open_store("mem", settings=_ns("team/c")).retire(sop_a)
    assert a.get(sop_a).version == 1 and a.get(sop_a).status == "active"

    # usage of a readable item is credited; an unreadable one is left alone
    reader.record_outcome([sop_a, ids["sop_b"]], success=True, episode_id="ep-1")
    open_store("mem", settings=_ns("team/c")).record_outcome([sop_a], success=False)
    assert a.get(sop_a).success == 1 and a.get(sop_a).failure == 0
    reader.mark_retrieved([sop_a])
    assert a.get(sop_a).retrieved == 1

    # the gate matches only the written namespace: team A's SOP proposed by a team B
    # writer merges into team B's SOP of the same title, never into team A's
    res = reader.propose(level="procedural", scope="app/trac", title=SOP_A[0], content=SOP_A[1])
    assert res.action == "merged" and res.item is not None and res.item.id == ids["sop_b"]
    fresh = open_store("mem", settings=_ns("team/c", "team/a"))
    res = fresh.propose(level="procedural", scope="app/trac", title=SOP_A[0], content=SOP_A[1])
    assert res.action == "created" and res.item is not None and res.item.namespace == "team/c"
    assert a.get(sop_a).version == 1  # never merged into, never revised

    # episodes are written in the written namespace and read like items
    ep = b.archive_episode(task="Close ticket 7", outcome="success")
    assert b.get_episode(ep).namespace == "team/b"
    with pytest.raises(ItemNotFound):
        a.get_episode(ep)
    assert [e.id for e in a.episodes()] == [] and [e.id for e in reader.episodes()] == [ep]


def test_curation_touches_only_the_written_namespace(open_store) -> None:  # type: ignore[no-untyped-def]
    a, b, ids = _two_teams(open_store)
    for n in range(6):  # both SOPs fail often enough to retire
        a.record_outcome([ids["sop_a"]], success=False, episode_id=f"ea{n}")
        b.record_outcome([ids["sop_b"]], success=False, episode_id=f"eb{n}")
    reader = open_store("mem", settings=_ns("user/c", "team/a", "team/b"))
    assert reader.curate() == []
    assert [it.id for it in b.curate(dry_run=True)] == [ids["sop_b"]]
    assert [it.id for it in b.curate()] == [ids["sop_b"]]
    assert a.get(ids["sop_a"]).status == "active"
    assert [it.id for it in a.curate()] == [ids["sop_a"]]


def test_export_and_import_with_namespaces(open_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b, ids = _two_teams(open_store)
    both = open_store("mem", settings=_ns("team/a", "team/b"))
    out = tmp_path / "all.jsonl"
    assert both.export_jsonl(out) == 5
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["namespace"] for r in records} == {"team/a", "team/b"}
    assert b.export_jsonl(tmp_path / "b.jsonl") == 2  # what it reads, not the whole store
    assert both.export_jsonl(tmp_path / "a.jsonl", namespaces=["team/a"]) == 3
    with pytest.raises(InvalidInput, match="not read"):
        b.export_jsonl(tmp_path / "x.jsonl", namespaces=["team/a"])

    # into another store: the written namespace by default, or the records' own
    into = open_store("other", settings=_ns("user/priya"))
    assert into.import_jsonl(out)["added"] == 5
    assert {it.namespace for it in into.list_items()} == {"user/priya"}
    keeper = open_store("kept", settings=_ns("default", "team/a", "team/b"))
    assert keeper.import_jsonl(out, keep_namespaces=True)["added"] == 5
    assert keeper.get(ids["sop_b"]).namespace == "team/b"
    assert keeper.import_jsonl(out, keep_namespaces=True) == {
        "added": 0,
        "updated": 0,
        "unchanged": 5,
    }
    # into the same store, another namespace: copies with new ids (ids are store-wide)
    c = open_store("mem", settings=_ns("team/c"))
    assert c.import_jsonl(tmp_path / "a.jsonl")["added"] == 3
    copies = c.list_items()
    assert len(copies) == 3 and not {it.id for it in copies} & set(ids.values())
    assert a.get(ids["sop_a"]).version == 1


def _downgrade_to_v2(store: MemoryStore) -> None:
    """Make an open store look like one written before namespaces: its index entries
    without namespace metadata (and the old checksum), then (after close) schema 2."""
    idx = store.index
    assert store.owns_index
    old = 0
    for level in LEVELS:
        col = idx._col(level)
        if col is None:
            continue
        page = col.get(include=["embeddings", "metadatas"])
        if not page["ids"]:
            continue
        col.delete(ids=page["ids"])
        metas = [{"version": m["version"]} for m in page["metadatas"]]
        col.add(ids=page["ids"], embeddings=page["embeddings"], metadatas=metas)
        for i, m in zip(page["ids"], metas, strict=True):
            key = f"{i}:{m['version']}".encode()
            old ^= int.from_bytes(hashlib.blake2b(key, digest_size=8).digest())
    idx.state.checksum = old
    idx.write_state()


def _schema_v2(store: MemoryStore) -> None:
    """Drop the namespace columns and say version 2 (run with the store closed)."""
    steps = [
        "DROP INDEX ix_items_namespace",
        "DROP INDEX ix_episodes_namespace",
        "ALTER TABLE items DROP COLUMN namespace",
        "ALTER TABLE episodes DROP COLUMN namespace",
        "UPDATE schema_version SET version = 2",
    ]
    if store.backend.name == "postgres":
        import psycopg

        with psycopg.connect(store.settings.url or "", autocommit=True) as conn:
            for sql in steps:
                conn.execute(sql)
    else:
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(store.db_path)) as conn, conn:
            for sql in steps:
                conn.execute(sql)


def test_a_version_2_store_migrates_into_default(open_store) -> None:  # type: ignore[no-untyped-def]
    old = open_store("mem")
    sop = old.add(level="procedural", scope="app/x", title="Upload a file", content="Drag it.")
    tip = old.add(level="tool", scope="tool/shell_run", title="Quote paths", content="Quote.")
    ep = old.archive_episode(task="Upload report.pdf", outcome="success")
    _downgrade_to_v2(old)
    old.close()
    _schema_v2(old)

    store = open_store("mem", settings=MemorySettings(lock_timeout_s=20, exact_search_max_items=0))
    assert store.stats()["schema_version"] == SCHEMA_VERSION == 3
    assert store.get(sop.id).namespace == "default" and store.get(tip.id).namespace == "default"
    assert store.get_episode(ep).namespace == "default"
    assert store._namespaces_held() == {"default"}  # the migration lists what it holds
    assert any(r.startswith("index repaired: 3 upserted") for r in store.repairs), store.repairs
    assert {ns for _l, _v, ns in store.index.entries().values()} == {"default"}
    assert store.search("upload a file", k=1, mode="vector")[0].item.id == sop.id
    assert store.verify().ok
    assert store.audit_log()[0].action == "migrate" and store.audit_log()[0].detail == "2->3"
    # and new items still go where they did
    assert store.add(level="procedural", scope="a", title="t", content="c").namespace == "default"


def test_a_store_restored_from_a_version_2_snapshot_is_migrated(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store("mem")
    kept = store.add(level="procedural", scope="app/x", title="Upload a file", content="Drag.")
    store.snapshot("before")
    store.close()
    # the snapshot file is SQLite on both backends: make it a version-2 one
    import sqlite3
    from contextlib import closing

    snap = store.path / "snapshots" / "before.db"
    with closing(sqlite3.connect(snap)) as conn, conn:
        conn.execute("DROP INDEX ix_items_namespace")
        conn.execute("DROP INDEX ix_episodes_namespace")
        conn.execute("ALTER TABLE items DROP COLUMN namespace")
        conn.execute("ALTER TABLE episodes DROP COLUMN namespace")
        conn.execute("UPDATE schema_version SET version = 2")
    again = open_store("mem")
    again.add(level="procedural", scope="app/y", title="Later", content="after the snapshot")
    again.restore("before")
    assert again.stats()["schema_version"] == 3
    assert again.get(kept.id).namespace == "default"
    assert again.search("upload a file", k=1)[0].item.id == kept.id


def test_names_and_views() -> None:
    for good in ("default", "team/acme", "user/priya.k", "agent/alex-2/run_1"):
        assert check_namespace(good) == good
    for bad in ("", "Team/acme", "team//acme", "/team", "team/", "-x", "a b", "x" * 201):
        with pytest.raises(InvalidInput, match="bad namespace"):
            check_namespace(bad)
    assert parse_namespaces("team/a, user/b") == ["team/a", "user/b"]
    assert parse_namespaces('["team/a"]') == ["team/a"]
    view = NamespaceView.of("team/a", ["user/b", "team/a"])
    assert view.read == ("team/a", "user/b") and view.readable("user/b")
    assert not view.readable("default")
    with pytest.raises(ValueError, match="bad read namespace"):
        MemorySettings(read_namespaces=["Nope"])
    with pytest.raises(ValueError, match="bad namespace"):
        MemorySettings(namespace="team/")
    assert MemorySettings().namespace == "default" and MemorySettings().read_namespaces == []


def test_the_index_checksum_covers_the_namespace(tmp_path: Path) -> None:
    assert pair_hash("p-1", 1, "team/a") != pair_hash("p-1", 1, "team/b")
    with MemoryStore.open(tmp_path / "m", settings=_ns("team/a")) as store:
        it = store.add(level="procedural", scope="a", title="t", content="c")
    state = json.loads((tmp_path / "m" / "index" / STATE_FILE).read_text())
    assert state["count"] == 1 and state["checksum"] == checksum([(it.id, 1, "team/a")])
