"""journeyman's hierarchical experience memory.

SQLite (via SQLModel) is the source of truth; a Chroma index over the active items is
derived from it; retrieval fuses vectors and BM25; a write gate keeps the store clean.

    from memory import MemoryStore
    with MemoryStore.open("path/to/memory") as store:
        store.add(level="procedural", scope="app/trac/tickets", title="...", content="...")
        hits = store.search("close a ticket", level="procedural", k=5)
"""

from memory.embeddings import Embedder, MiniLMEmbedder, OpenAIEmbedder, build_embedder
from memory.errors import (
    EmbeddingError,
    InvalidInput,
    ItemNotFound,
    MemoryStoreError,
    NamespaceNotWritable,
    ReadOnlyStore,
    SchemaTooNew,
    StoreCorrupt,
    StoreLocked,
    StoreUnreachable,
)
from memory.namespaces import DEFAULT_NAMESPACE, NamespaceView, check_namespace
from memory.records import LEVELS, STATUSES, TRUSTS, Episode, ItemVersion, MemoryItem
from memory.retrieval import Hit, estimate_tokens, render_hits
from memory.settings import MemorySettings
from memory.store import MemoryStore, VerifyReport, WriteResult

__all__ = [
    "DEFAULT_NAMESPACE",
    "LEVELS",
    "STATUSES",
    "TRUSTS",
    "Embedder",
    "EmbeddingError",
    "Episode",
    "Hit",
    "InvalidInput",
    "ItemNotFound",
    "ItemVersion",
    "MemoryItem",
    "MemorySettings",
    "MemoryStore",
    "MemoryStoreError",
    "MiniLMEmbedder",
    "NamespaceNotWritable",
    "NamespaceView",
    "OpenAIEmbedder",
    "ReadOnlyStore",
    "SchemaTooNew",
    "StoreCorrupt",
    "StoreLocked",
    "StoreUnreachable",
    "VerifyReport",
    "WriteResult",
    "build_embedder",
    "check_namespace",
    "estimate_tokens",
    "render_hits",
]
