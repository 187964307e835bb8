"""Fixtures of the memory tests: real SQLite, real PostgreSQL, real Chroma (embedded and
a server), real embeddings, in tmp dirs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memory import MemorySettings, MemoryStore

#: Every store backend the contract suite runs against: SQLite with an embedded Chroma
#: folder, and PostgreSQL with a Chroma server (both servers shared by the session).
BACKENDS = ["sqlite-chroma", "postgres-chroma-server"]

StoreFactory = Callable[..., MemoryStore]
_DB_NAMES = itertools.count()


def postgres_settings(url: str, index_url: str, **kwargs: object) -> MemorySettings:
    """Settings of a PostgreSQL store with its index on a Chroma server."""
    return MemorySettings(backend="postgres", url=url, index_url=index_url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def pg_store_settings(
    request: pytest.FixtureRequest,
) -> Callable[..., MemorySettings]:
    """Settings of a fresh PostgreSQL store (a new database) on the session's servers."""
    pg = request.getfixturevalue("pg_cluster")
    chroma = request.getfixturevalue("chroma_server")

    def make(**kwargs: object) -> MemorySettings:
        url = pg.create_database(f"mem_{next(_DB_NAMES)}")
        return postgres_settings(url, chroma.url, **kwargs)

    return make


@pytest.fixture(params=BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Open stores of the parametrised backend; all closed after the test. A name opens the
    same store each time within a test (its folder; for PostgreSQL, its database too)."""
    opened: list[MemoryStore] = []
    databases: dict[str, MemorySettings] = {}

    def factory(name: str = "mem", **kwargs: object) -> MemoryStore:
        settings = kwargs.pop("settings", None) or MemorySettings(lock_timeout_s=20)
        if request.param == "postgres-chroma-server":
            if name not in databases:
                databases[name] = request.getfixturevalue("pg_store_settings")()
            where = databases[name]
            settings = settings.model_copy(
                update={"backend": "postgres", "url": where.url, "index_url": where.index_url}
            )
        else:
            # a backend listed without an opener must fail loudly, never run against SQLite
            assert request.param == "sqlite-chroma", f"no opener for backend {request.param}"
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
