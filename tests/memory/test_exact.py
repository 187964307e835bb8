"""The in-memory exact vector ranking and its agreement with the Chroma path."""

from __future__ import annotations

import numpy as np

from memory import MemorySettings
from memory.exact import ExactIndex


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_index_put_drop_query() -> None:
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 300)
    ex = ExactIndex(dim=16)
    for i, v in enumerate(vecs):
        ex.put(f"i{i}", "procedural" if i % 2 else "tool", v)
    assert len(ex) == 300
    hits = ex.query(vecs[7], levels=["procedural"], n=3)
    assert hits[0][0] == "i7" and abs(hits[0][1] - 1.0) < 1e-5
    assert all(int(h[0][1:]) % 2 for h in hits)
    ex.drop("i7")
    assert "i7" not in [h[0] for h in ex.query(vecs[7], levels=["procedural"], n=10)]
    ex.put("i7", "tool", vecs[7])  # moves level, reuses a freed slot
    assert ex.query(vecs[7], levels=["tool"], n=1)[0][0] == "i7"
    assert len(ex) == 300


def test_exact_and_hnsw_paths_agree(open_store) -> None:  # type: ignore[no-untyped-def]
    exact = open_store("mem")
    titles = ["Close a ticket", "Upload a file", "Send an email", "Book a meeting room"]
    for t in titles:
        exact.add(level="procedural", scope="app/x", title=t, content=f"How to {t.lower()}.")
    exact.close()
    hnsw = open_store("mem", settings=MemorySettings(exact_search_max_items=0))
    for t in titles:
        assert hnsw.search(t, k=1, mode="vector")[0].item.title == t
    hnsw.close()
    again = open_store("mem")
    for t in titles:
        assert again.search(t, k=1, mode="vector")[0].item.title == t
