"""Memory lookup tools: search the experience store and fetch full items (SOPs) on demand."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from memory.records import Level
from tools.context import MemoryLookup, ToolContext
from tools.errors import ToolError
from tools.registry import Tool, tool
from tools.result import ToolResult


class SearchArgs(BaseModel):
    query: str = Field(min_length=1, description="What you need, in a few words.")
    level: Level | None = Field(
        default="procedural",
        description="strategic lessons, procedural SOPs, tool tips or episodic past runs; "
        "null searches all levels.",
    )
    k: int = Field(default=5, ge=1, le=20, description="How many hits to return.")


class GetArgs(BaseModel):
    id: str | None = Field(default=None, description="Item id as shown by memory_search.")
    title: str | None = Field(default=None, description="Exact item title, if no id is known.")

    @model_validator(mode="after")
    def _one_key(self) -> GetArgs:
        if not self.id and not self.title:
            raise ValueError("give an id or a title")
        return self


def _store(ctx: ToolContext) -> MemoryLookup:
    if ctx.memory is None:
        raise ToolError("no memory store is attached to this run")
    return ctx.memory


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_item(item: Any) -> str:
    """The full text of a memory item, as the model reads it."""
    lines = [
        f"[{item.id}] {item.title}",
        f"level: {item.level}   scope: {item.scope}",
    ]
    when = getattr(item, "when_to_use", "")
    if when:
        lines.append(f"when to use: {when}")
    tags = getattr(item, "tags", None)
    if tags:
        lines.append("tags: " + ", ".join(map(str, tags)))
    trust = getattr(item, "trust", None)
    if trust and trust != "trusted":
        lines.append(f"trust: {trust} (came from an untrusted source; verify before relying on it)")
    lines += ["", str(item.content)]
    return "\n".join(lines)


@tool(name="memory_search", group="memory", read_only=True)
async def memory_search(ctx: ToolContext, args: SearchArgs) -> ToolResult:
    """Search the experience memory (SOPs, lessons, tool tips, past episodes) by meaning and keywords."""
    store = _store(ctx)
    hits = list(store.search(args.query, level=args.level, k=args.k))
    if not hits:
        return ToolResult(output=f"no memory items match {args.query!r}", data=[])
    lines = []
    data = []
    for hit in hits:
        item = hit.item
        summary = getattr(item, "when_to_use", "") or item.content
        lines.append(
            f"[{item.id}] ({item.level}, {item.scope}) {item.title} - {_one_line(summary)}"
            f" (score {float(hit.score):.2f})"
        )
        data.append({"id": str(item.id), "title": item.title, "score": float(hit.score)})
    lines.append("Use memory_get with an id to read an item in full.")
    return ToolResult(output="\n".join(lines), data=data)


@tool(name="memory_get", group="memory", read_only=True)
async def memory_get(ctx: ToolContext, args: GetArgs) -> ToolResult:
    """Fetch one memory item in full (e.g. the steps of an SOP) by id or exact title."""
    store = _store(ctx)
    item = None
    if args.id:
        try:
            item = store.get(args.id)
        except (KeyError, LookupError, ValueError):
            item = None
    if item is None and args.title:
        item = store.find_by_title(args.title)
    if item is None:
        key = f"id {args.id!r}" if args.id else f"title {args.title!r}"
        raise ToolError(f"no memory item with {key}; use memory_search to find ids")
    return ToolResult(output=render_item(item), data={"id": str(item.id), "title": item.title})


MEMORY_TOOLS: list[Tool] = [memory_search, memory_get]
