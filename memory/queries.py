"""The store's SQL, built by pure functions (the modules that hold a session run it).

Only portable SQL lives here; what differs between engines (full-text search, integrity
checks) is the backend's (see memory/backend.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.namespaces import in_namespaces
from memory.utility import utility_sql

Sql = tuple[str, tuple[Any, ...]]

#: Best utility first, then the most recently changed (strategic lessons, tool tips).
BY_UTILITY = f"{utility_sql()} DESC"

#: Ids purged since a change counter (the index and the exact vectors drop them).
PURGED_SINCE = "SELECT item_id FROM audit_log WHERE action = 'purge' AND seq > ?"

#: The store's id (PostgreSQL stores; names its collections on a shared Chroma server).
STORE_ID = "SELECT value FROM meta WHERE key = 'store_id'"

#: A namespace the store holds is a ``meta`` row ``ns:<name>`` (added on first write,
#: never removed): (key,). NAMESPACES lists them.
NAMESPACE_KEY = "ns:"
PUT_NAMESPACE = "INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT DO NOTHING"
NAMESPACES = "SELECT key FROM meta WHERE key LIKE 'ns:%'"

#: Ids with level, version and namespace of the active items (what the vector index holds).
ACTIVE_ITEMS = "SELECT id, level, version, namespace FROM items WHERE status = 'active'"

#: One item vector, replacing the old one: (item_id, model, text_hash, vector). An upsert
#: both SQLite and PostgreSQL speak.
PUT_VECTOR = (
    "INSERT INTO item_vectors(item_id, model, text_hash, vector) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(item_id) DO UPDATE SET model = excluded.model, "
    "text_hash = excluded.text_hash, vector = excluded.vector"
)

#: An episode's outcome for an item, replacing an earlier one: (episode, item_id, success).
PUT_OUTCOME = (
    "INSERT INTO item_outcomes(episode, item_id, success) VALUES (?, ?, ?) "
    "ON CONFLICT(episode, item_id) DO UPDATE SET success = excluded.success"
)

#: Items (with their stored vector, if any) changed since a change counter.
CHANGED_SINCE = (
    "SELECT i.id, i.level, i.status, v.vector, v.model, i.namespace FROM items i "
    "LEFT JOIN item_vectors v ON v.item_id = i.id WHERE i.seq > ?"
)

#: The rows that go with an item when it is purged, child tables first.
PURGE = (
    "DELETE FROM item_versions WHERE item_id = ?",
    "DELETE FROM item_vectors WHERE item_id = ?",
    "DELETE FROM item_outcomes WHERE item_id = ?",
    "DELETE FROM items WHERE id = ?",
)


def in_scopes(scopes: Sequence[str]) -> Sql:
    """A condition: scope ``global`` or one of ``scopes`` or below it."""
    conds = ["scope = 'global'"]
    params: list[Any] = []
    for sc in scopes:
        conds.append("(scope = ? OR scope LIKE ?)")
        params += [sc, sc + "/%"]
    return "(" + " OR ".join(conds) + ")", tuple(params)


def strategic_ids(
    scopes: Sequence[str] | None, namespaces: Sequence[str], *, limit: int = 400
) -> Sql:
    """Ids of active strategic lessons of ``namespaces`` (within ``scopes`` when given),
    best utility first."""
    ns_cond, params = in_namespaces(namespaces)
    sql = f"SELECT id FROM items WHERE level = 'strategic' AND status = 'active' AND {ns_cond}"
    if scopes:
        cond, scope_params = in_scopes(scopes)
        sql += f" AND {cond}"
        params += scope_params
    return f"{sql} ORDER BY {BY_UTILITY}, updated_at DESC LIMIT {int(limit)}", params


def mark_retrieved(n: int, namespaces: int) -> str:
    """Count one retrieval of ``n`` items of the readable namespaces (parameters: the
    time, the ids, then the ``namespaces`` names)."""
    return (
        "UPDATE items SET retrieved = retrieved + 1, last_used = ? "
        f"WHERE id IN ({','.join('?' * n)}) AND namespace IN ({','.join('?' * namespaces)})"
    )


def count_outcome(column: str) -> str:
    """Add one success or failure to an item (parameters: the time, the id)."""
    assert column in ("success", "failure")
    return f"UPDATE items SET {column} = {column} + 1, last_used = ? WHERE id = ?"


def uncount_outcome(column: str) -> str:
    """Take back one success or failure of an item (parameter: the id)."""
    assert column in ("success", "failure")
    # CASE, not the two-argument max(): PostgreSQL spells that greatest()
    return f"UPDATE items SET {column} = CASE WHEN {column} > 0 THEN {column} - 1 ELSE 0 END WHERE id = ?"
