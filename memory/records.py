"""What the store holds: items, their versions, episodes (SQLModel tables).

SQLite is the source of truth. An item's text lives here; the Chroma index only holds
vectors of the active items, keyed by ``MemoryItem.id``. Times are seconds since the
epoch (UTC) so they sort, compare and export without time-zone surprises.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from memory.utility import utility

Level = Literal["strategic", "procedural", "tool", "episodic", "skill"]
Status = Literal["candidate", "active", "quarantined", "retired"]
Trust = Literal["trusted", "untrusted"]
LEVELS: tuple[str, ...] = get_args(Level)
STATUSES: tuple[str, ...] = get_args(Status)
TRUSTS: tuple[str, ...] = get_args(Trust)
_LEVEL_PREFIX = {"strategic": "s", "procedural": "p", "tool": "t", "episodic": "e", "skill": "k"}

#: Fields that make up an item's text; a change to any of them is a new version.
TEXT_FIELDS = ("level", "scope", "title", "when_to_use", "content", "tags")
_NS_DEFAULT = {"server_default": "default"}


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def new_item_id(level: str) -> str:
    """A short, unique, level-prefixed id such as ``p-3fa2c1d9e0b4``."""
    return f"{_LEVEL_PREFIX.get(level, 'x')}-{uuid.uuid4().hex[:12]}"


def new_episode_id() -> str:
    """A unique episode id."""
    return f"ep-{uuid.uuid4().hex[:12]}"


def render_text(item_id: str, title: str, when_to_use: str | None, content: str) -> str:
    """An item's prompt text from its fields (:meth:`MemoryItem.render`; a packing that
    reads the fields alone sizes items with it before loading them)."""
    head = f"[{item_id}] {title}"
    if when_to_use:
        head += f"\nWhen: {when_to_use}"
    return f"{head}\n{content}".strip()


class MemoryItem(SQLModel, table=True):
    """One piece of experience: a lesson, an SOP, a tool tip or an episode summary."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_level_status", "level", "status"),
        Index("ix_items_seq", "seq"),
        Index("ix_items_scope", "scope"),
    )

    pk: int | None = Field(default=None, primary_key=True)  # stable rowid for FTS5
    id: str = Field(index=True, unique=True)
    # who the item belongs to (memory/namespaces.py); the server default fills rows that
    # arrive without one (a version-2 snapshot loaded into a newer schema)
    namespace: str = Field(default="default", index=True, sa_column_kwargs=_NS_DEFAULT)
    level: str
    scope: str = "global"
    title: str
    when_to_use: str = ""
    content: str
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = "active"
    trust: str = "trusted"
    # provenance
    prov_episode: str | None = None
    prov_subtask: str | None = None
    prov_model: str | None = None
    prov_actor: str = "user"
    prov_source: str | None = None
    corroborations: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # distinct successful episodes that proposed this text
    supersedes: str | None = None
    superseded_by: str | None = None
    # usage
    retrieved: int = 0
    success: int = 0
    failure: int = 0
    last_used: float | None = None
    # bookkeeping
    version: int = 1
    seq: int = 0  # store-wide change counter of the last text/status change (index sync)
    created_at: float = Field(default_factory=now)
    updated_at: float = Field(default_factory=now)

    @property
    def utility(self) -> float:
        """Smoothed success rate ``(s + 1) / (s + f + 2)``: 0.5 for an unused item."""
        return utility(self.success, self.failure)

    @property
    def uses(self) -> int:
        """Episodes whose outcome was credited to this item."""
        return self.success + self.failure

    def embed_text(self) -> str:
        """The item's searchable text (its fields are embedded one by one, see
        ``memory.embeddings.embed_fields``; the hash of this text says when to re-embed)."""
        return "\n".join(p for p in self.embed_fields() if p)

    def embed_fields(self) -> list[str]:
        """The fields that are embedded, each on its own."""
        return [self.title, self.when_to_use, self.content]

    def render(self) -> str:
        """The text injected into a prompt."""
        return render_text(self.id, self.title, self.when_to_use, self.content)

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (export, history, ``--json``)."""
        data = self.model_dump()
        data.pop("pk", None)
        data["tags"] = list(self.tags or [])
        data["corroborations"] = list(self.corroborations or [])
        return data


class ItemVersion(SQLModel, table=True):
    """One whole version of an item, appended on every change (never updated)."""

    __tablename__ = "item_versions"
    __table_args__ = (Index("ix_versions_item", "item_id", "version", unique=True),)

    pk: int | None = Field(default=None, primary_key=True)
    item_id: str
    version: int
    actor: str
    reason: str
    created_at: float = Field(default_factory=now)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Episode(SQLModel, table=True):
    """One archived task run: outcome, usage, and the trajectory as JSONL."""

    __tablename__ = "episodes"

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(index=True, unique=True)
    namespace: str = Field(default="default", index=True, sa_column_kwargs=_NS_DEFAULT)
    task: str
    outcome: str
    score: float | None = None
    usage: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trajectory: str = ""  # JSON Lines, one step per line
    items_used: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    items_written: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: float = Field(default_factory=now)

    def steps(self) -> list[dict[str, Any]]:
        """The trajectory parsed back into dicts."""
        return [json.loads(line) for line in self.trajectory.splitlines() if line.strip()]


class ItemVector(SQLModel, table=True):
    """The embedding of an item's current text (lets the index be rebuilt without a model)."""

    __tablename__ = "item_vectors"

    item_id: str = Field(primary_key=True)
    model: str
    text_hash: str
    vector: bytes


class AuditEntry(SQLModel, table=True):
    """Store-level events that are not item versions: purges, restores, migrations."""

    __tablename__ = "audit_log"

    pk: int | None = Field(default=None, primary_key=True)
    seq: int = 0
    action: str
    item_id: str | None = None
    actor: str = "user"
    detail: str = ""
    created_at: float = Field(default_factory=now)
