"""The vector index on a Chroma server (``memory.index_url``), for PostgreSQL stores.

The same collections as the local index (memory/index.py), one per level, named after
the store's id (``jm-<store id>-<level>``) so several stores share one server. What the
local index keeps in its sidecar file, the state (model, dimension, epoch, applied change
counter, count, checksum), lives in the metadata of the store's collection
``jm-<store id>-state`` on the same server: it describes the vectors beside it, and every
machine reads the same one. Each level's collection also carries its vectors' model and
dimension; if any disagrees with the state, the state reads as "mixed" and the owner
re-embeds the whole index rather than mix two models' vectors.

Only the process holding the store's ``index`` advisory lock writes here (one writer in
the whole team); a server that cannot be reached is one :class:`StoreUnreachable` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from memory.errors import InvalidInput, StoreUnreachable
from memory.index import ChromaIndex, Entry, IndexState, entry_of
from memory.records import LEVELS


def parse_index_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of ``http[s]://host:port``; :class:`InvalidInput` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"memory.index_url {url!r} is not a Chroma server URL: give http://host:port"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8000)
    except ValueError as exc:
        raise InvalidInput(f"memory.index_url {url!r} has a bad port") from exc
    return parts.hostname, port, parts.scheme == "https"


class ServerIndex(ChromaIndex):
    """A store's collections on a Chroma server (see the module docstring)."""

    deferrable = False  # other machines query it

    def __init__(self, url: str, store_id: Callable[[], str], *, writable: bool) -> None:
        self.url = url
        self.host, self.port, self.ssl = parse_index_url(url)
        self._store_id = store_id
        self._prefix: str | None = None
        self._seen = False
        self._state: Any = None  # the state collection, once made
        self.folder = Path(url)  # for messages only: nothing is written locally
        self.writable = writable
        self._client: Any = None
        self._cols: dict[str, Any] = {}
        # readers never need the state; the owner reads it on claiming the index
        self.state = self.read_state() if writable else IndexState()

    # -- plumbing -----------------------------------------------------------------------
    def _down(self, exc: BaseException) -> StoreUnreachable:
        text = " ".join(str(exc).split())[:200]
        return StoreUnreachable(
            f"cannot reach the Chroma server {self.url} (memory.index_url): {text}; start it "
            "with `chroma run --path DIR --port P`. Changes already saved are kept; the index "
            "catches up when the server is back"
        )

    @property
    def prefix(self) -> str:
        """``jm-<store id>``: this store's collections on a shared server."""
        if self._prefix is None:
            self._prefix = f"jm-{self._store_id()[:16]}"
        return self._prefix

    def collection_name(self, level: str) -> str:
        """The collection of one level."""
        return f"{self.prefix}-{level}"

    def _connect(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings

            try:
                self._client = chromadb.HttpClient(
                    host=self.host,
                    port=self.port,
                    ssl=self.ssl,
                    settings=Settings(anonymized_telemetry=False),
                )
            except Exception as exc:  # chromadb raises ValueError when nothing answers
                raise self._down(exc) from exc
        return self._client

    def _col(self, level: str, *, create: bool = False) -> Any:
        try:
            return super()._col(level, create=create)
        except StoreUnreachable:
            raise
        except Exception as exc:
            raise self._down(exc) from exc

    def _versions_of(self, ids: Sequence[str]) -> dict[str, Entry]:
        """The four levels' lookups at once: each is an HTTP round trip (a write's index
        update waited on them one after another)."""
        found: dict[str, Entry] = {}
        if not ids:
            return found
        cols = [(lv, c) for lv in LEVELS if (c := self._col(lv)) is not None]

        def get(pair: tuple[str, Any]) -> Any:
            try:
                return pair[1].get(ids=list(ids), include=["metadatas"])
            except Exception as exc:
                raise self._down(exc) from exc

        with ThreadPoolExecutor(max_workers=len(cols) or 1) as pool:
            pages = list(pool.map(get, cols))
        for (level, _c), page in zip(cols, pages, strict=True):
            for item_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                found[item_id] = entry_of(level, meta)
        return found

    def _state_col(self, *, create: bool) -> Any:
        if create and self._state is not None:
            return self._state
        client = self._connect()
        name = f"{self.prefix}-state"
        try:
            if create:
                self._state = client.get_or_create_collection(name, embedding_function=None)
                return self._state
            return client.get_collection(name, embedding_function=None)
        except StoreUnreachable:
            raise
        except Exception as exc:
            if not create and "does not exist" in str(exc).lower():
                return None
            raise self._down(exc) from exc

    @property
    def exists(self) -> bool:
        """True once the store's state collection is on the server."""
        if not self._seen:
            self._seen = self._state_col(create=False) is not None
        return self._seen

    def close(self) -> None:
        """Forget the client (an HTTP client holds nothing to release)."""
        self._cols.clear()
        self._client = self._state = None

    # -- state --------------------------------------------------------------------------
    def read_state(self) -> IndexState:
        """The state kept on the server; "mixed" when a collection holds another model's
        vectors (so the owner rebuilds it)."""
        col = self._state_col(create=False)
        if col is None:
            return IndexState()
        try:
            state = IndexState(**json.loads((col.metadata or {}).get("state", "{}")))
        except (ValueError, TypeError):
            return IndexState()
        client = self._connect()
        for level in LEVELS:
            try:
                meta = client.get_collection(self.collection_name(level)).metadata or {}
            except Exception:  # not created (no item of that level yet)
                continue
            model = meta.get("embedding_model", "unset")
            dim = int(meta.get("dim", 0) or 0)
            if model not in ("unset", state.model) or (dim and state.dim and dim != state.dim):
                state.model = f"mixed:{model}"
        return state

    def write_state(self) -> None:
        """Store the state in the state collection's metadata."""
        col = self._state_col(create=True)
        try:
            col.modify(metadata={"state": json.dumps(asdict(self.state))})
        except Exception as exc:
            raise self._down(exc) from exc
        self._seen = True

    def reset(self, *, model: str, dim: int, epoch: str) -> None:
        """Drop the store's collections (never another store's) and start empty."""
        self._connect()
        super().reset(model=model, dim=dim, epoch=epoch)
