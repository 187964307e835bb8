"""Looking after the store: curation, purge, the audit log, snapshots and restore, the full
verify, and JSON Lines import and export."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from memory import curation
from memory.backend import DB_FILE, backup_file
from memory.episodes import Episodes
from memory.errors import InvalidInput, ItemNotFound, ReadOnlyStore
from memory.index import Entry
from memory.indexsync import get_many
from memory.queries import PURGE
from memory.records import TEXT_FIELDS, AuditEntry, MemoryItem, now
from memory.schema import SCHEMA_VERSION
from memory.validate import new_item

SNAPSHOT_DIR = "snapshots"
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class VerifyReport:
    """The outcome of :meth:`MemoryStore.verify`."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    items: int = 0
    active: int = 0
    indexed: int = 0

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "problems": self.problems,
            "repaired": self.repaired,
            "items": self.items,
            "active": self.active,
            "indexed": self.indexed,
        }


class Maintenance(Episodes):
    """The upkeep part of the store (see memory/core.py for the layers)."""

    # ---------------------------------------------------------------- curation
    def curate(
        self,
        *,
        min_uses: int | None = None,
        threshold: float | None = None,
        dry_run: bool = False,
        actor: str = "curator",
    ) -> list[MemoryItem]:
        """Retire active items of the written namespace whose utility stays below
        ``threshold`` after ``min_uses`` (other namespaces are their writers' to curate)."""
        min_uses = self.settings.curate_min_uses if min_uses is None else min_uses
        threshold = self.settings.curate_threshold if threshold is None else threshold
        with self._read() as s:
            used = s.exec(
                select(MemoryItem).where(
                    MemoryItem.status == "active",
                    MemoryItem.namespace == self.namespace,
                    col(MemoryItem.success) + col(MemoryItem.failure) >= min_uses,
                )
            ).all()
        chosen = curation.to_retire(used, min_uses=min_uses, threshold=threshold)
        if dry_run or not chosen:
            return chosen
        with self._write() as s:
            return [
                self._change(
                    s,
                    it.id,
                    actor=actor,
                    reason=f"curated: utility {it.utility:.2f} < {threshold} after {it.uses} uses",
                    changes={"status": "retired"},
                )
                for it in chosen
            ]

    def purge(self, item_id: str, *, actor: str = "user", reason: str = "purged") -> None:
        """Delete an item and its history for good (logged). Not used in normal operation."""
        with self._write() as s:
            it = self._own(s, item_id)
            seq = self.db.bump_seq(s)
            conn = s.connection()
            for stmt in PURGE:
                conn.exec_driver_sql(stmt, (item_id,))
            s.add(
                AuditEntry(
                    seq=seq,
                    action="purge",
                    item_id=item_id,
                    actor=actor,
                    detail=json.dumps({"reason": reason, "title": it.title, "version": it.version}),
                )
            )

    def audit_log(self, *, limit: int = 100) -> list[AuditEntry]:
        """Store-level events (purges, restores, migrations), newest first."""
        with self._read() as s:
            return list(s.exec(select(AuditEntry).order_by(col(AuditEntry.pk).desc()).limit(limit)))

    # ---------------------------------------------------------------- snapshots
    def _snapshot_path(self, name: str) -> Path:
        if not _SNAPSHOT_NAME.match(name):
            raise InvalidInput(f"bad snapshot name {name!r}: use letters, digits, '.', '_' and '-'")
        return self.path / SNAPSHOT_DIR / f"{name}.db"

    def snapshot(self, name: str, *, overwrite: bool = False) -> Path:
        """Freeze the whole store (items, versions, episodes, vectors) as ``snapshots/NAME.db``.

        The backend copies the database in one step (SQLite's online backup API), so the
        copy is a consistent point in time even while other processes write. The index is
        rebuilt from it on restore.
        """
        dest = self._snapshot_path(name)
        if dest.exists() and not overwrite:
            raise InvalidInput(f"snapshot {name!r} exists; choose another name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.backend.copy_out(dest)
        return dest

    def snapshots(self) -> list[dict[str, Any]]:
        """Existing snapshots: name, bytes, modification time."""
        folder = self.path / SNAPSHOT_DIR
        if not folder.is_dir():
            return []
        return [
            {"name": p.stem, "bytes": p.stat().st_size, "created_at": p.stat().st_mtime}
            for p in sorted(folder.glob("*.db"))
        ]

    def drop_snapshot(self, name: str) -> bool:
        """Delete snapshot ``name``; False when there was none."""
        path = self._snapshot_path(name)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        return existed

    def import_snapshot(self, source: str | Path, name: str, *, overwrite: bool = False) -> Path:
        """Make another store (its folder) or a snapshot file available here as snapshot
        ``name``, ready for :meth:`restore`; :class:`ItemNotFound` when there is none."""
        src = Path(source).expanduser()
        db = src if src.is_file() else src / DB_FILE
        if not db.is_file():
            raise ItemNotFound(f"no memory store at {source} (expected a folder with {DB_FILE})")
        dest = self._snapshot_path(name)
        if dest.exists() and not overwrite:
            raise InvalidInput(f"snapshot {name!r} exists; choose another name")
        dest.parent.mkdir(parents=True, exist_ok=True)
        backup_file(db, dest)
        return dest

    def restore(self, name: str, *, actor: str = "user") -> Path:
        """Replace the store's content by a snapshot; the current state is first saved as
        snapshot ``pre-restore-<time>`` (nothing is lost). Returns that safety snapshot."""
        if self.readonly:
            raise ReadOnlyStore("restore needs a writable store")
        src_path = self._snapshot_path(name)
        if not src_path.is_file():
            raise ItemNotFound(f"no snapshot {name!r} in {src_path.parent}")
        version = self.backend.snapshot_version(src_path, label=f"snapshot {name!r}")
        if not version or version > SCHEMA_VERSION:
            raise InvalidInput(f"snapshot {name!r} has an unsupported schema version")
        with self.db.locked():
            safety = self.snapshot(time.strftime("pre-restore-%Y%m%d-%H%M%S"), overwrite=True)
            with self._read() as s:
                seq, _epoch = self.db.meta(s)
            detail = json.dumps({"snapshot": name, "safety": safety.stem})
            self.backend.copy_in(
                src_path,
                timeout=self.settings.lock_timeout_s,
                seq=seq,
                audit=(actor, detail, now()),
            )
        self.db.engine.dispose()
        self.db.prepare_schema()  # a snapshot of an older schema is migrated
        self._claim_index()
        if self.owns_index:
            self.reindex(reason=f"restored {name}")
        return safety

    # ---------------------------------------------------------------- verify
    def verify(self, *, repair: bool = True) -> VerifyReport:
        """Full check: database integrity, FTS, versions, vectors, and the index (diffed
        id by id). With ``repair`` (and index ownership) a stale index is fixed."""
        self._flush_index()  # changes waiting for a batch are not damage
        rep = VerifyReport(ok=True)
        with self._read() as s:
            conn = s.connection()
            rep.problems += self.backend.integrity_problems(conn)
            rep.items = int(conn.exec_driver_sql("SELECT count(*) FROM items").scalar_one())
            missing_versions = conn.exec_driver_sql(
                "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_versions v "
                "WHERE v.item_id = i.id AND v.version = i.version)"
            ).scalar_one()
            if missing_versions:
                rep.problems.append(f"{missing_versions} item(s) lack their current version record")
            _seq, epoch = self.db.meta(s)
        active = self._sqlite_active()
        rep.active = len(active)
        # read before the index: what changed after the owner's last applied change counter
        # waits for its next batch (or write) and is not damage
        st = self.index.read_state()
        waiting = self._changed_since(st.applied_seq) if st.epoch == epoch else set()
        if not self.index.exists:
            rep.problems.append("vector index folder missing")
            indexed: dict[str, Entry] = {}
        else:
            indexed = self.index.entries()
        rep.indexed = len(indexed)
        stale = sum(1 for i, lv in active.items() if indexed.get(i) != lv and i not in waiting)
        extra = sum(1 for i in indexed if i not in active and i not in waiting)
        if stale or extra:
            rep.problems.append(f"index: {stale} missing or stale, {extra} not active")
        if st.model and st.model != self.model_id:
            rep.problems.append(f"index built with {st.model}, store uses {self.model_id}")
        if (stale or extra or st.model != self.model_id or st.epoch != epoch) and repair:
            if not self.readonly:
                self._claim_index()
            if self.owns_index:
                if st.model != self.model_id or st.epoch != epoch or not self.index.exists:
                    self.reindex(reason="verify")
                    rep.repaired.append("index rebuilt")
                else:
                    rep.repaired += self._repair_index(active)
                rep.indexed = self.index.count()
                rep.problems = [
                    p for p in rep.problems if not p.startswith(("index", "vector index"))
                ]
        rep.ok = not rep.problems
        return rep

    # ---------------------------------------------------------------- import / export
    def export_jsonl(
        self,
        path: str | Path,
        *,
        status: str | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> int:
        """Write every item of the readable namespaces (only ``namespaces`` when given; all
        statuses unless ``status``) as JSON Lines, each with its namespace; returns the
        count."""
        names = self.view.narrow(namespaces)
        out = Path(path)
        n = 0
        with out.open("w", encoding="utf-8") as fh:
            offset = 0
            while True:
                batch = self.list_items(status=status, limit=2000, offset=offset, namespaces=names)
                for it in batch:
                    fh.write(json.dumps(it.to_record(), ensure_ascii=False) + "\n")
                    n += 1
                if len(batch) < 2000:
                    break
                offset += 2000
        return n

    def import_jsonl(
        self, path: str | Path, *, actor: str = "user", keep_namespaces: bool = False
    ) -> dict[str, int]:
        """Read items from JSON Lines (a person's import: active and trusted unless the
        record says otherwise) into the written namespace, or with ``keep_namespaces``
        into each record's own. Known ids of that namespace get a new version when their
        text differs; an id known in another namespace is imported as a copy (a new id)."""
        src = Path(path)
        if not src.is_file():
            raise InvalidInput(f"no such file: {src}")
        records: list[dict[str, Any]] = []
        for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{src}:{lineno}: not JSON ({exc.msg})") from exc
            if not isinstance(rec, dict):
                raise InvalidInput(f"{src}:{lineno}: expected a JSON object")
            records.append(rec)
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        ids = [str(r["id"]) for r in records if r.get("id")]
        with self._read() as s:
            known = get_many(s, ids)  # every namespace's: ids are store-wide
        existing: dict[str, MemoryItem] = {}
        fresh = []
        for rec in records:
            it = known.get(str(rec.get("id") or ""))
            if it is None:
                fresh.append(rec)
            elif it.namespace == self._namespace_of(rec, keep_namespaces):
                existing[it.id] = it
            else:  # the id is another namespace's item: a copy of it, with a new id
                fresh.append({**rec, "id": None})
        for start in range(0, len(fresh), 500):
            counts["added"] += len(
                self.add_many(
                    fresh[start : start + 500],
                    actor=actor,
                    reason="imported",
                    keep_namespaces=keep_namespaces,
                )
            )
        for rec in records:
            it = existing.get(str(rec.get("id") or ""))
            if it is None:
                continue
            new, _n = new_item({**rec, "id": it.id}, actor=actor)
            changes = {
                k: getattr(new, k)
                for k in (*TEXT_FIELDS, "status", "trust")
                if getattr(new, k) != getattr(it, k)
            }
            if not changes:
                counts["unchanged"] += 1
                continue
            with self._write() as s:
                self._change(
                    s,
                    it.id,
                    actor=actor,
                    reason="imported",
                    changes=changes,
                    check=not keep_namespaces,
                )
            counts["updated"] += 1
        return counts
