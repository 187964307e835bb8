"""Settings of the memory store (a section of journeyman's configuration)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from memory.namespaces import DEFAULT_NAMESPACE, check_namespace, parse_namespaces


class MemorySettings(BaseModel):
    """Where the store lives and how it embeds and retrieves."""

    path: Path = Field(
        default=Path("~/.local/share/journeyman/memory"),
        description="Folder of the default memory store (SQLite file plus Chroma index).",
    )
    # where the truth lives: "sqlite" (memory.db in ``path``) or "postgres" (``url``, a
    # postgresql://user[:password]@host:port/dbname URL); ``path`` still holds snapshots
    backend: Literal["sqlite", "postgres"] = "sqlite"
    url: str | None = None
    # the vector index of a PostgreSQL store: a Chroma server (http://host:port, started
    # with `chroma run --path DIR --port P`); None keeps a local Chroma folder in ``path``
    index_url: str | None = None
    # namespaces (memory/namespaces.py): the one this agent writes, and the others it
    # reads (the written one is always read); items of other namespaces are invisible
    namespace: str = Field(
        default=DEFAULT_NAMESPACE,
        description="The namespace written (e.g. team/acme, agent/alex, user/priya).",
    )
    # NoDecode: an environment variable may give "a,b" as well as a JSON list
    read_namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="More namespaces read (besides the written one); empty: only it.",
    )
    embedder: str = Field(
        default="minilm-onnx",
        description="'minilm-onnx' (offline, default) or 'openai' (an embeddings endpoint).",
    )
    embedding_model: str = Field(
        default="text-embedding-3-small", description="Model id for the 'openai' embedder."
    )
    embedding_base_url: str | None = None
    embedding_api_key_env: str = "OPENAI_API_KEY"
    strategic_budget_tokens: int = Field(default=600, ge=0)
    procedural_budget_tokens: int = Field(default=1200, ge=0)
    tool_tip_budget_tokens: int = Field(default=300, ge=0)
    episodic_budget_tokens: int = Field(default=600, ge=0)
    embedding_compute: Literal["int8", "float"] = Field(
        default="int8",
        description="MiniLM's matrix products in int8 (quantised once per machine and cached; "
        "about twice as fast) or in float, as the packaged model runs. Changing it re-embeds "
        "the store.",
    )
    embedding_batch_size: int = Field(
        default=16,
        ge=1,
        le=2048,
        description="Texts per ONNX run with float compute (int8 runs one text at a time).",
    )
    embedding_threads: int | None = Field(
        default=1,
        description="ONNX Runtime intra-op threads; 1 is fastest for short texts (None: all cores).",
    )
    embedding_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads that embed batches in parallel (each a single-threaded ONNX run).",
    )
    lock_timeout_s: float = Field(
        default=30.0, ge=0, description="How long a write waits for another writer process."
    )
    duplicate_similarity: float = Field(
        default=0.92, gt=0, le=1, description="Cosine at or above which a proposal merges."
    )
    related_similarity: float = Field(
        default=0.80,
        gt=0,
        le=1,
        description="Cosine at or above which a same-scope, same-title proposal is a revision.",
    )
    lexical_weight: float = Field(
        default=0.3,
        ge=0,
        description="Bonus (in cosine units) for BM25's best match, times its lead over the second.",
    )
    candidate_pool: int = Field(
        default=40, ge=5, description="Candidates fetched from each ranker before fusion."
    )
    exact_search_max_items: int = Field(
        default=300_000,
        ge=0,
        description="Rank by exact cosine in memory up to this many active items (0: HNSW only).",
    )
    index_batch: int = Field(
        default=32,
        ge=0,
        description=(
            "Changed items a store-folder index may lag behind while exact search serves "
            "every query; applied together (0: apply each write at once)."
        ),
    )
    curate_min_uses: int = Field(default=5, ge=1)
    curate_threshold: float = Field(default=0.3, ge=0, le=1)

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        return check_namespace(value)

    @field_validator("read_namespaces", mode="before")
    @classmethod
    def _check_read_namespaces(cls, value: Any) -> list[str]:
        return parse_namespaces(value)
