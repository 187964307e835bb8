"""A store folder's Chroma index takes small changes in batches (``memory.index_batch``)
while exact search answers every query; nothing reads it stale."""

from __future__ import annotations

from pathlib import Path

from memory import MemorySettings, MemoryStore

TITLES = [
    "Close a Trac ticket as fixed",
    "Upload a file to the shared drive",
    "Send an email to the team list",
    "Book a meeting room for Friday",
    "Rename a column in a CSV file",
    "Merge two pull requests",
    "Restart the web server",
]


def _add(store: MemoryStore, title: str) -> str:
    return store.add(
        level="procedural", scope="app/x", title=title, content=f"How to {title.lower()}."
    ).id


def _top(store: MemoryStore, title: str) -> str:
    return store.search(title, k=1, mode="vector")[0].item.title


def test_small_writes_wait_for_a_batch_and_are_found_meanwhile(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "mem")
    _add(store, TITLES[0])
    assert _top(store, TITLES[0]) == TITLES[0]  # the first search loads the exact vectors
    assert store.index.count() == 1
    _add(store, TITLES[1])
    assert store.index.count() == 1  # waiting for a batch
    assert _top(store, TITLES[1]) == TITLES[1]  # exact search has it
    stats = store.stats()  # figures that include every change
    assert stats["index"]["in_sync"] and stats["index"]["count"] == 2
    assert store.index.count() == 2
    _add(store, TITLES[2])
    assert store.index.count() == 2
    store.close()  # applies what waits
    hnsw = MemoryStore.open(tmp_path / "mem", settings=MemorySettings(exact_search_max_items=0))
    try:
        assert hnsw.repairs == []  # nothing to repair: close brought the index up to date
        assert hnsw.index.count() == 3
        assert _top(hnsw, TITLES[2]) == TITLES[2]
        assert hnsw.verify().ok
    finally:
        hnsw.close()


def test_a_full_batch_is_applied_in_one_write(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "mem", settings=MemorySettings(index_batch=3))
    try:
        _add(store, TITLES[0])
        _top(store, TITLES[0])
        counts = []
        for title in TITLES[1:5]:
            _add(store, title)
            counts.append(store.index.count())
        assert counts == [1, 1, 4, 4]  # the third change waiting makes a batch
    finally:
        store.close()


def test_index_batch_zero_applies_every_write(tmp_path: Path) -> None:
    store = MemoryStore.open(tmp_path / "mem", settings=MemorySettings(index_batch=0))
    try:
        _add(store, TITLES[0])
        _top(store, TITLES[0])
        for n, title in enumerate(TITLES[1:4], start=2):
            _add(store, title)
            assert store.index.count() == n
    finally:
        store.close()


def test_a_store_grown_past_exact_search_brings_its_index_up_first(tmp_path: Path) -> None:
    """The exact vectors were last loaded with one item; a large write (applied at once)
    and a small one (left waiting) later, the store is past exact search: the search
    applies the waiting change before the index answers."""
    settings = MemorySettings(exact_search_max_items=4, index_batch=2)
    store = MemoryStore.open(tmp_path / "mem", settings=settings)
    try:
        _add(store, TITLES[0])
        _top(store, TITLES[0])
        store.add_many(
            [
                {"level": "procedural", "scope": "app/x", "title": t, "content": f"How to {t}."}
                for t in TITLES[1:5]
            ]
        )
        assert store.index.count() == 5
        _add(store, TITLES[5])
        assert store.index.count() == 5  # waiting: the exact vectors seemed to have room
        assert _top(store, TITLES[5]) == TITLES[5]  # answered by the index, brought up first
        assert store.index.count() == 6
    finally:
        store.close()


def test_verify_elsewhere_tells_waiting_changes_from_damage(tmp_path: Path) -> None:
    """Another process's verify (here a second open: the first holds the index lock)
    does not report the owner's waiting changes as damage, and still finds a lost vector."""
    owner = MemoryStore.open(tmp_path / "mem")
    try:
        first = _add(owner, TITLES[0])
        _top(owner, TITLES[0])
        _add(owner, TITLES[1])  # waits for a batch
        other = MemoryStore.open(tmp_path / "mem")
        try:
            assert not other.owns_index
            report = other.verify(repair=False)
            assert report.ok, report.problems
            owner.index._col("procedural").delete(ids=[first])  # an applied vector lost
            report = other.verify(repair=False)
            assert report.problems == ["index: 1 missing or stale, 0 not active"]
        finally:
            other.close()
    finally:
        owner.close()
