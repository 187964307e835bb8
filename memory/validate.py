"""Checking what callers give the store, and turning a record into a new item (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from memory.errors import InvalidInput
from memory.namespaces import DEFAULT_NAMESPACE
from memory.records import LEVELS, STATUSES, TRUSTS, MemoryItem, new_item_id
from memory.redact import redact

_SCOPE = re.compile(r"^[A-Za-z0-9_.:@-]+(/[A-Za-z0-9_.:@-]+)*$")


def opt(value: Any) -> str | None:
    """None for a missing or empty value, else its text."""
    return None if value in (None, "") else str(value)


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    """``value`` when it is one of ``allowed``; :class:`InvalidInput` otherwise."""
    if value not in allowed:
        raise InvalidInput(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


def check_level(level: str) -> str:
    """A known level."""
    return check_choice(level, LEVELS, "level")


def check_scope(scope: str) -> str:
    """A scope path such as ``app/trac/tickets``, without surrounding slashes."""
    scope = scope.strip().strip("/")
    if not scope or not _SCOPE.match(scope):
        raise InvalidInput(
            f"bad scope {scope!r}: a path such as 'global', 'app/trac/tickets' or 'tool/browser_click'"
        )
    return scope


def levels_of(level: str | Sequence[str] | None) -> list[str]:
    """The levels a search covers: all, one, or several (each checked)."""
    if level is None:
        return list(LEVELS)
    if isinstance(level, str):
        return [check_level(level)]
    return [check_level(lv) for lv in level]


def new_item(
    rec: dict[str, Any], *, actor: str, namespace: str = DEFAULT_NAMESPACE
) -> tuple[MemoryItem, int]:
    """A new (unsaved) item of ``namespace`` from a record, checked and redacted; with the
    redaction count (the record's own ``namespace`` is not read here)."""
    level = check_level(str(rec.get("level", "")))
    scope = check_scope(str(rec.get("scope") or "global"))
    fields: dict[str, Any] = {}
    redactions = 0
    for name in ("title", "when_to_use", "content"):
        fields[name], n = redact(str(rec.get(name) or "").strip())
        redactions += n
    if not fields["title"]:
        raise InvalidInput("a memory item needs a title")
    if not fields["content"]:
        raise InvalidInput(f"memory item {fields['title']!r} has no content")
    tags = sorted({redact(str(t).strip())[0] for t in rec.get("tags") or () if str(t).strip()})
    status = check_choice(str(rec.get("status") or "active"), STATUSES, "status")
    trust = check_choice(str(rec.get("trust") or "trusted"), TRUSTS, "trust")
    prov = dict(rec.get("provenance") or {})
    item_id = str(rec.get("id") or new_item_id(level))
    item = MemoryItem(
        id=item_id,
        namespace=namespace,
        level=level,
        scope=scope,
        tags=tags,
        status=status,
        trust=trust,
        prov_episode=opt(prov.get("episode", rec.get("prov_episode"))),
        prov_subtask=opt(prov.get("subtask", rec.get("prov_subtask"))),
        prov_model=opt(prov.get("model", rec.get("prov_model"))),
        prov_source=opt(prov.get("source", rec.get("prov_source"))),
        prov_actor=str(prov.get("actor") or rec.get("prov_actor") or actor),
        corroborations=list(rec.get("corroborations") or []),
        supersedes=opt(rec.get("supersedes")),
        superseded_by=opt(rec.get("superseded_by")),
        retrieved=int(rec.get("retrieved") or 0),
        success=int(rec.get("success") or 0),
        failure=int(rec.get("failure") or 0),
        last_used=rec.get("last_used"),
        **fields,
    )
    if item.prov_episode and not item.corroborations and prov.get("success", True):
        item.corroborations = [item.prov_episode]
    return item, redactions
