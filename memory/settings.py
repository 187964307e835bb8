"""Settings of the memory store (a section of journeyman's configuration)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class MemorySettings(BaseModel):
    """Where the store lives and how it embeds and retrieves."""

    path: Path = Field(
        default=Path("~/.local/share/journeyman/memory"),
        description="Folder of the default memory store (SQLite file plus Chroma index).",
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
