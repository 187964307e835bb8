"""Fixtures of the memory tests: real SQLite, real Chroma, real embeddings, in tmp dirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memory import MemorySettings, MemoryStore

#: Every store backend the contract suite runs against. Postgres + a Chroma server will
#: join here (a factory that opens such a store) when that backend exists.
BACKENDS = ["sqlite-chroma"]

StoreFactory = Callable[..., MemoryStore]


@pytest.fixture(params=BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Open stores of the parametrised backend; all closed after the test."""
    opened: list[MemoryStore] = []

    def factory(name: str = "mem", **kwargs: object) -> MemoryStore:
        # a backend listed without an opener must fail loudly, never run against SQLite
        assert request.param == "sqlite-chroma", f"no opener for backend {request.param}"
        settings = kwargs.pop("settings", None) or MemorySettings(lock_timeout_s=20)
        store = MemoryStore.open(tmp_path / name, settings=settings, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> MemoryStore:
    """A fresh writable store."""
    return open_store()
