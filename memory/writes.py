"""Writing the store: adds, versioned changes, usage counters, and the write gate."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session, select

from memory import gate
from memory.errors import InvalidInput, ItemNotFound, NamespaceNotWritable, ReadOnlyStore
from memory.indexsync import get_many
from memory.namespaces import check_namespace
from memory.queries import (
    NAMESPACE_KEY,
    PUT_NAMESPACE,
    PUT_OUTCOME,
    count_outcome,
    mark_retrieved,
    uncount_outcome,
)
from memory.reads import Reads
from memory.records import TEXT_FIELDS, TRUSTS, AuditEntry, ItemVersion, MemoryItem, now
from memory.redact import redact
from memory.retrieval import fts_query
from memory.validate import check_choice, check_scope, new_item

#: Items in one add_many after which the database's planner statistics are refreshed.
_BULK = 500


@dataclass
class WriteResult:
    """What the write gate did with a proposal."""

    action: str  # created | merged | superseded | candidate | rejected
    item: MemoryItem | None
    reason: str
    superseded: MemoryItem | None = None
    redactions: int = 0


def _many(conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run ``sql`` once per row in one call (nothing for no rows)."""
    if rows:
        conn.exec_driver_sql(sql, rows)


def _record_version(s: Session, item: MemoryItem, *, actor: str, reason: str) -> None:
    s.add(
        ItemVersion(
            item_id=item.id, version=item.version, actor=actor, reason=reason, data=item.to_record()
        )
    )


class Writes(Reads):
    """The write half of the store (see memory/core.py for the layers)."""

    def _insert(
        self,
        s: Session,
        items: Sequence[MemoryItem],
        vectors: np.ndarray | None,
        *,
        actor: str,
        reason: str,
        seq: int,
    ) -> None:
        stamp = now()
        for it in items:
            it.seq = seq
            it.created_at = it.updated_at = stamp
            s.add(it)
            _record_version(s, it, actor=actor, reason=reason)
        if vectors is not None:
            self._put_item_vectors(s, [(it, vectors[i]) for i, it in enumerate(items)])
        # the namespaces the store holds (a vector search filters on them only when it
        # must: memory/indexsync.py)
        names = sorted({it.namespace for it in items})
        s.connection().exec_driver_sql(PUT_NAMESPACE, [(NAMESPACE_KEY + n,) for n in names])

    def add(
        self,
        *,
        level: str,
        scope: str,
        title: str,
        content: str,
        when_to_use: str = "",
        tags: Iterable[str] = (),
        trust: str = "trusted",
        actor: str = "user",
        provenance: dict[str, Any] | None = None,
        status: str = "active",
    ) -> MemoryItem:
        """A person's (or a trusted program's) add: stored as given, active and trusted by
        default, bypassing the gate's merge logic (secrets are still redacted)."""
        return self.add_many(
            [
                {
                    "level": level,
                    "scope": scope,
                    "title": title,
                    "content": content,
                    "when_to_use": when_to_use,
                    "tags": list(tags),
                    "trust": trust,
                    "provenance": provenance,
                    "status": status,
                }
            ],
            actor=actor,
        )[0]

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        actor: str = "user",
        reason: str = "added",
        vectors: np.ndarray | None = None,
        keep_namespaces: bool = False,
    ) -> list[MemoryItem]:
        """Add many items in one transaction, embedding them in batches (bulk loads, import).

        Items go into the namespace this store writes; with ``keep_namespaces`` a record's
        own ``namespace`` is kept (an import between stores). ``vectors`` may carry
        precomputed unit vectors of ``self.model_id`` (bulk loads).
        """
        if self.readonly:
            raise ReadOnlyStore("this memory store was opened read-only")
        items = [
            new_item(r, actor=actor, namespace=self._namespace_of(r, keep_namespaces))[0]
            for r in records
        ]
        if not items:
            return []
        if vectors is None:
            vectors = self.embed_items(items)
        elif vectors.shape[0] != len(items):
            raise InvalidInput("add_many: one vector per record is needed")
        with self._write() as s:
            existing = get_many(s, [it.id for it in items])
            if existing:
                raise InvalidInput(f"item id already exists: {next(iter(existing))}")
            seq = self.db.bump_seq(s)
            self._insert(s, items, vectors, actor=actor, reason=reason, seq=seq)
        if len(items) >= _BULK:
            self.backend.refresh_statistics()
        return items

    def _namespace_of(self, rec: dict[str, Any], keep: bool) -> str:
        """Where a record goes: the written namespace, or (``keep``) the record's own."""
        if keep and rec.get("namespace"):
            return check_namespace(rec["namespace"])
        return self.namespace

    def _own(self, s: Session, item_id: str, *, check: bool = True) -> MemoryItem:
        """The item to change, read in ``s``: :class:`ItemNotFound` when it does not exist
        or is not readable, :class:`NamespaceNotWritable` when it belongs to a namespace
        this store reads but does not write (``check=False``: any namespace, for imports
        that keep their records' namespaces)."""
        it = s.exec(select(MemoryItem).where(MemoryItem.id == item_id)).first()
        if it is None or (check and not self.view.readable(it.namespace)):
            raise self._not_found(item_id)
        if check and it.namespace != self.namespace:
            raise NamespaceNotWritable(
                f"memory item {item_id!r} belongs to namespace {it.namespace!r}, which this "
                f"store reads but does not write (it writes {self.namespace!r}); use "
                f"--namespace {it.namespace} to change it"
            )
        return it

    def _change(
        self,
        s: Session,
        item_id: str,
        *,
        actor: str,
        reason: str,
        changes: dict[str, Any],
        check: bool = True,
    ) -> MemoryItem:
        """Apply changes to an item of the written namespace as a new version (inside
        write transaction ``s``)."""
        it = self._own(s, item_id, check=check)
        old_text = it.embed_text()
        for key, value in changes.items():
            setattr(it, key, value)
        it.version += 1
        it.seq = self.db.bump_seq(s)
        it.updated_at = now()
        s.add(it)
        s.flush()
        _record_version(s, it, actor=actor, reason=reason)
        if it.embed_text() != old_text:
            self._put_item_vectors(s, [(it, self.embed_items([it])[0])])
        return it

    def update(
        self,
        item_id: str,
        *,
        title: str | None = None,
        content: str | None = None,
        when_to_use: str | None = None,
        tags: Iterable[str] | None = None,
        scope: str | None = None,
        actor: str = "user",
        reason: str = "edited",
    ) -> MemoryItem:
        """Edit an item's text: a new version (secrets redacted)."""
        changes: dict[str, Any] = {}
        for name, value in (("title", title), ("content", content), ("when_to_use", when_to_use)):
            if value is not None:
                changes[name] = redact(value.strip())[0]
        if tags is not None:
            changes["tags"] = sorted({t.strip() for t in tags if t.strip()})
        if scope is not None:
            changes["scope"] = check_scope(scope)
        if changes.get("title") == "" or changes.get("content") == "":
            raise InvalidInput("title and content cannot be empty")
        with self._write() as s:
            return self._change(s, item_id, actor=actor, reason=reason, changes=changes)

    def retire(self, item_id: str, *, actor: str = "user", reason: str = "retired") -> MemoryItem:
        """Take an item out of use (kept, with its history)."""
        with self._write() as s:
            return self._change(
                s, item_id, actor=actor, reason=reason, changes={"status": "retired"}
            )

    def quarantine(
        self, item_id: str, *, actor: str = "user", reason: str = "quarantined"
    ) -> MemoryItem:
        """Hold an item back for review."""
        with self._write() as s:
            changes = {"status": "quarantined"}
            return self._change(s, item_id, actor=actor, reason=reason, changes=changes)

    def approve(self, item_id: str, *, actor: str = "user", reason: str = "approved") -> MemoryItem:
        """A person vouches for an item: active and trusted; what it supersedes retires."""
        with self._write() as s:
            changes = {"status": "active", "trust": "trusted"}
            it = self._change(s, item_id, actor=actor, reason=reason, changes=changes)
            if it.supersedes:
                old = s.exec(select(MemoryItem).where(MemoryItem.id == it.supersedes)).first()
                mine = old is not None and old.namespace == self.namespace
                if old is not None and mine and old.status != "retired":
                    self._change(
                        s,
                        old.id,
                        actor=actor,
                        reason=f"superseded by {it.id} (approved)",
                        changes={"status": "retired", "superseded_by": it.id},
                    )
            return it

    def revert(self, item_id: str, version: int, *, actor: str = "user") -> MemoryItem:
        """Make an old version current again (as a new version)."""
        with self._write() as s:
            old = s.exec(
                select(ItemVersion).where(
                    ItemVersion.item_id == item_id, ItemVersion.version == version
                )
            ).first()
            if old is None:
                raise ItemNotFound(f"item {item_id!r} has no version {version}")
            changes = {k: old.data[k] for k in (*TEXT_FIELDS, "status", "trust") if k in old.data}
            reason = f"reverted to version {version}"
            return self._change(s, item_id, actor=actor, reason=reason, changes=changes)

    def note(
        self, item_id: str, *, actor: str = "agent", reason: str, promote: bool = False
    ) -> MemoryItem:
        """Record an event in an item's history (a replay, a use) as a new version with the
        same text; ``promote`` makes a candidate active (its first successful use)."""
        with self._write() as s:
            it = self._own(s, item_id)
            changes = {"status": "active"} if promote and it.status == "candidate" else {}
            if changes:
                reason += "; promoted to active"
            return self._change(s, item_id, actor=actor, reason=reason, changes=changes)

    def mark_retrieved(self, ids: Sequence[str]) -> None:
        """Count that these items (of the readable namespaces) were put in a prompt."""
        if not ids:
            return
        sql = mark_retrieved(len(ids), len(self.view.read))
        with self._write() as s:
            s.connection().exec_driver_sql(sql, (now(), *ids, *self.view.read))

    def record_outcome(
        self, ids: Sequence[str], *, success: bool, episode_id: str | None = None
    ) -> None:
        """Credit (or debit) the items that were in context when a subtask succeeded (failed).

        Utility counts episodes: within one ``episode_id`` an item counts once, with the
        outcome of the last subtask it was in context for (a failed attempt followed by a
        successful retry is one success). Without an episode id every call counts.
        Counters change in SQL inside ``BEGIN IMMEDIATE``: no update is lost between
        processes. The episode is logged in the audit trail. Items of every readable
        namespace are credited (usage is not a change of their text); others are ignored.
        """
        if not ids:
            return
        ids = list(dict.fromkeys(ids))
        stamp = now()
        column = "success" if success else "failure"
        with self._write() as s:
            conn = s.connection()
            # only the readable namespaces' items are credited; one query for their namespaces
            spaces: dict[str, str] = {}
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                spaces.update(
                    (str(i), str(n))
                    for i, n in conn.exec_driver_sql(
                        f"SELECT id, namespace FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                        tuple(chunk),
                    )
                )
            ids = [i for i in ids if i in spaces and self.view.readable(spaces[i])]
            # each statement runs once over all the items (executemany): one round trip
            # per item and statement cost ~0.1 ms each in Python alone
            counted = ids
            if episode_id:
                before: dict[str, bool] = {}
                for start in range(0, len(ids), 900):
                    chunk = ids[start : start + 900]
                    rows = conn.exec_driver_sql(
                        "SELECT item_id, success FROM item_outcomes WHERE episode = ? "
                        f"AND item_id IN ({','.join('?' * len(chunk))})",
                        (episode_id, *chunk),
                    )
                    before.update((str(i), bool(ok)) for i, ok in rows)
                same = [i for i in ids if i in before and before[i] == success]
                counted = [i for i in ids if not (i in before and before[i] == success)]
                flips = [i for i in counted if i in before]  # the episode's outcome flips
                _many(
                    conn, "UPDATE items SET last_used = ? WHERE id = ?", [(stamp, i) for i in same]
                )
                _many(conn, PUT_OUTCOME, [(episode_id, i, int(success)) for i in counted])
                old = "failure" if success else "success"
                _many(conn, uncount_outcome(old), [(i,) for i in flips])
            _many(conn, count_outcome(column), [(stamp, i) for i in counted])
            if episode_id:
                detail = json.dumps({"episode": episode_id, "success": success, "ids": ids})
                s.add(AuditEntry(action="outcome", actor="agent", detail=detail))

    # ---------------------------------------------------------------- the gate
    def _similar(
        self, s: Session, vec: np.ndarray, *, level: str, scope: str, title: str
    ) -> list[tuple[MemoryItem, float]]:
        """Existing non-retired items of a level near a proposal, most similar first; only
        the written namespace's (a proposal never merges into another namespace's item)."""
        ids: set[str] = set()
        mine = [self.namespace]
        try:
            near = self._nearest(vec, levels=[level], n=8, persist=False, namespaces=mine)
            ids.update(i for i, _sim in near)
        except Exception:  # index unreadable: the title match below still applies
            if self.owns_index:
                raise
        norm = gate.normalise_title(title)
        rows = s.connection().exec_driver_sql(
            "SELECT id, title FROM items WHERE level = ? AND scope = ? AND namespace = ? "
            "AND status != 'retired'",
            (level, scope, self.namespace),
        )
        ids.update(i for i, t in rows if gate.normalise_title(t) == norm)
        # items not in the index (candidates, quarantined): compare titles' text by FTS
        match = fts_query(title)
        if match:
            sql, params = self.backend.lexical_unindexed(
                match, level=level, limit=8, namespace=self.namespace
            )
            ids.update(r[0] for r in s.connection().exec_driver_sql(sql, params))
        items = [
            it
            for it in get_many(s, list(ids)).values()
            if it.status != "retired" and it.namespace == self.namespace
        ]
        vectors = self._vectors_for(items, persist=False)
        scored = [(it, float(vectors[it.id] @ vec)) for it in items]
        scored.sort(key=lambda p: -p[1])
        return scored

    def propose(
        self,
        *,
        level: str,
        scope: str,
        title: str,
        content: str,
        when_to_use: str = "",
        tags: Iterable[str] = (),
        source_trust: str = "trusted",
        actor: str = "reflector",
        provenance: dict[str, Any] | None = None,
        supersedes: str | None = None,
        episode_success: bool | None = None,
        quarantine: str | None = None,
        status: str | None = None,
        reason: str | None = None,
    ) -> WriteResult:
        """The write gate for machine-proposed experience.

        * secrets are redacted; empty proposals are rejected;
        * a near-duplicate of an existing item merges into it as a new version (and, when
          it comes from another successful episode, counts as corroboration);
        * a contradiction (or ``supersedes=ID``) supersedes the old item: the old one
          retires with ``superseded_by`` set; untrusted text cannot retire trusted items,
          it becomes a candidate awaiting approval instead;
        * untrusted text may become an active procedural or tool item (trust
          ``untrusted``), but a strategic lesson from it stays ``candidate`` until a second
          successful episode corroborates it or a person approves it;
        * untrusted text that tries to instruct the agent is quarantined, and so is any
          proposal the caller holds back for review (``quarantine=REASON``: the learner's
          own checks, such as a lesson that repeats what a web page said);
        * ``status="candidate"`` asks for a candidate (a skill not yet verified by replay);
          ``reason`` goes into the new version's history.

        What to do is decided by the pure :func:`memory.gate.decide` and
        :func:`memory.gate.plan`; this method gathers their inputs and writes the plan.
        """
        if self.readonly:
            raise ReadOnlyStore("this memory store was opened read-only")
        source_trust = check_choice(source_trust, TRUSTS, "source_trust")
        prov = dict(provenance or {})
        if episode_success is not None:
            prov.setdefault("success", episode_success)
        rec = {
            "level": level,
            "scope": scope,
            "title": title,
            "content": content,
            "when_to_use": when_to_use,
            "tags": list(tags),
            "trust": source_trust,
            "provenance": prov,
            "supersedes": supersedes,
        }
        try:
            item, redactions = new_item(rec, actor=actor, namespace=self.namespace)
        except InvalidInput as exc:
            return WriteResult("rejected", None, str(exc))
        untrusted = source_trust == "untrusted"
        raw = f"{title}\n{when_to_use}\n{content}"
        if status is not None:
            item.status = check_choice(status, ("active", "candidate"), "status")
        item.status = gate.initial_status(
            item.status, level=item.level, untrusted=untrusted, raw=raw, hold=quarantine
        )
        vec = self.embed_items([item])[0]
        with self._write() as s:
            if supersedes:
                try:
                    target = self._own(s, supersedes)
                except ItemNotFound:
                    raise ItemNotFound(f"cannot supersede: no memory item {supersedes!r}") from None
                decision = gate.Decision(
                    "superseded", target, f"explicitly supersedes {supersedes}"
                )
            else:
                similar = self._similar(
                    s, vec, level=item.level, scope=item.scope, title=item.title
                )
                decision = gate.decide(
                    scope=item.scope,
                    title=item.title,
                    text=item.embed_text(),
                    similar=similar,
                    duplicate=self.settings.duplicate_similarity,
                    related=self.settings.related_similarity,
                )
            p = gate.plan(
                decision,
                item,
                untrusted=untrusted,
                episode=item.prov_episode,
                successful=prov.get("success", True) is not False,
                hold=quarantine,
                note=reason,
            )
            return self._carry_out(s, p, item, vec, decision.target, actor, redactions)

    def _carry_out(
        self,
        s: Session,
        p: gate.Plan,
        item: MemoryItem,
        vec: np.ndarray,
        target: MemoryItem | None,
        actor: str,
        redactions: int,
    ) -> WriteResult:
        """Write what the gate planned for a proposal, in the caller's transaction ``s``."""
        if p.insert_status is None:
            assert target is not None  # a merge
            if not p.update:
                return WriteResult(p.action, target, p.reason, redactions=redactions)
            merged = self._change(s, target.id, actor=actor, reason=p.reason, changes=p.update)
            return WriteResult(p.action, merged, p.reason, redactions=redactions)
        seq = self.db.bump_seq(s)
        item.status = p.insert_status
        if p.supersedes:
            item.supersedes = p.supersedes
        self._insert(s, [item], vec[None, :], actor=actor, reason=p.insert_reason, seq=seq)
        old = None
        if p.retire_target and target is not None:
            old = self._change(
                s,
                target.id,
                actor=actor,
                reason=f"superseded by {item.id}: {p.reason}",
                changes={"status": "retired", "superseded_by": item.id},
            )
        return WriteResult(p.action, item, p.reason, superseded=old, redactions=redactions)
