"""Reading the store: items, versions, listings, statistics, and hybrid search."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import or_, text
from sqlalchemy import select as sa_select  # five columns: more than sqlmodel's select types
from sqlmodel import Session, col, select

from memory.errors import InvalidInput, ItemNotFound
from memory.indexsync import IndexSync, get_many
from memory.queries import BY_UTILITY, strategic_ids
from memory.records import (
    LEVELS,
    STATUSES,
    TRUSTS,
    ItemVector,
    ItemVersion,
    MemoryItem,
    render_text,
)
from memory.retrieval import (
    Hit,
    estimate_tokens,
    fts_terms,
    fusion_prior,
    lexical_bonus,
    match_expr,
    pack,
    suppress_duplicates,
    utility_factor,
)
from memory.schema import read_version
from memory.validate import check_choice, check_level, levels_of

_DUPLICATE_HIT = 0.97


class Reads(IndexSync):
    """The read half of the store (see memory/core.py for the layers)."""

    def _not_found(self, item_id: str) -> ItemNotFound:
        where = "" if self.view.read == ("default",) else f" in {', '.join(self.view.read)}"
        return ItemNotFound(f"no memory item {item_id!r}{where}")

    def get(self, item_id: str) -> MemoryItem:
        """The item with that id (any status) of a readable namespace; raises
        :class:`ItemNotFound`."""
        with self._read() as s:
            it = s.exec(select(MemoryItem).where(MemoryItem.id == item_id)).first()
        if it is None or not self.view.readable(it.namespace):
            raise self._not_found(item_id)
        return it

    def get_many(self, ids: Sequence[str]) -> list[MemoryItem]:
        """The items of readable namespaces that exist among ``ids``, in that order."""
        with self._read() as s:
            found = get_many(s, ids)
        return [found[i] for i in ids if i in found and self.view.readable(found[i].namespace)]

    def find_by_title(self, title: str, *, level: str | None = None) -> MemoryItem | None:
        """The most recent item whose title matches case-insensitively (non-retired first)."""
        with self._read() as s:
            q = select(MemoryItem).where(
                text("lower(items.title) = :t").bindparams(t=title.strip().lower()),
                col(MemoryItem.namespace).in_(self.view.read),
            )
            if level:
                q = q.where(MemoryItem.level == check_level(level))
            rows = list(s.exec(q))
        rows.sort(key=lambda r: (r.status != "retired", r.updated_at), reverse=True)
        return rows[0] if rows else None

    def list_items(
        self,
        *,
        level: str | None = None,
        status: str | None = None,
        scope: str | None = None,
        trust: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
        namespaces: Sequence[str] | None = None,
    ) -> list[MemoryItem]:
        """Items filtered by level, status, scope prefix, trust and namespaces (readable
        ones; all of them when None), newest first."""
        names = self.view.narrow(namespaces)
        with self._read() as s:
            q = select(MemoryItem).where(col(MemoryItem.namespace).in_(names))
            if level:
                q = q.where(MemoryItem.level == check_level(level))
            if status:
                q = q.where(MemoryItem.status == check_choice(status, STATUSES, "status"))
            if trust:
                q = q.where(MemoryItem.trust == check_choice(trust, TRUSTS, "trust"))
            if scope:
                q = q.where(
                    or_(
                        col(MemoryItem.scope) == scope,
                        col(MemoryItem.scope).startswith(scope + "/"),
                    )
                )
            q = q.order_by(col(MemoryItem.updated_at).desc()).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return list(s.exec(q))

    def history(self, item_id: str) -> list[ItemVersion]:
        """Every version of the item, oldest first."""
        self.get(item_id)  # raises ItemNotFound (also for an unreadable namespace)
        with self._read() as s:
            rows = list(
                s.exec(
                    select(ItemVersion)
                    .where(ItemVersion.item_id == item_id)
                    .order_by(col(ItemVersion.version))
                )
            )
        return rows

    def search(
        self,
        query: str,
        *,
        level: str | Sequence[str] | None = None,
        scope: str | None = None,
        k: int = 5,
        status: str = "active",
        trust: str | None = None,
        budget_tokens: int | None = None,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """Hybrid search, best first: cosine similarity to the item vectors plus a bonus for
        BM25's best match in proportion to its lead, re-ranked by utility, near-duplicates
        dropped, packed into ``budget_tokens`` (when given).

        ``mode`` is ``hybrid``, ``vector`` or ``bm25`` (the last two for baselines).
        """
        if not query.strip():
            raise InvalidInput("empty search query")
        if mode not in ("hybrid", "vector", "bm25"):
            raise InvalidInput(f"unknown search mode {mode!r}")
        levels = levels_of(level)
        check_choice(status, STATUSES, "status")
        if trust:
            check_choice(trust, TRUSTS, "trust")
        meta = self._maybe_sync()
        pool = max(self.settings.candidate_pool, 4 * k) * (4 if scope else 1)
        vec_rank: list[str] = []
        vec_score: dict[str, float] = {}
        bm_rank: list[str] = []
        bm_score: dict[str, float] = {}
        qv = self._query_vector(query) if mode != "bm25" and status == "active" else None
        hits: list[Hit] = []
        vectors: dict[str, np.ndarray] = {}
        # one read transaction for the whole search: the exact index's freshness check,
        # BM25 and the candidate rows (each transaction costs ~0.3 ms of Python here)
        with self._read() as s:
            if qv is not None:
                try:
                    near = self._nearest(qv, levels=levels, n=pool, session=s, meta=meta)
                    for item_id, sim in near:
                        vec_rank.append(item_id)
                        vec_score[item_id] = sim
                except Exception:  # an unreadable index degrades to BM25, never fails a search
                    if self.owns_index:
                        raise
            if mode != "vector":
                match = match_expr(self._selective_terms(s, fts_terms(query)))
                if match:
                    sql, params = self.backend.lexical_search(
                        match,
                        status=status,
                        levels=levels,
                        scope=scope,
                        limit=pool,
                        namespaces=self.view.read,
                    )
                    for item_id, score in s.connection().exec_driver_sql(sql, params):
                        bm_rank.append(str(item_id))
                        bm_score[str(item_id)] = -float(score)
            bonus = lexical_bonus(bm_rank, bm_score, weight=self.settings.lexical_weight)
            prior = fusion_prior(vec_rank, vec_score, bm_rank, bm_score, bonus)
            ranked = sorted(prior, key=lambda i: -prior[i])
            vec_pos = {i: n for n, i in enumerate(vec_rank, start=1)}
            bm_pos = {i: n for n, i in enumerate(bm_rank, start=1)}
            # ``prior`` bounds each candidate's score from above, so the head of its ranking
            # is enough; fetch further only when filters leave too few hits.
            step = max(4 * k, 20)
            for start in range(0, len(ranked), step):
                chunk = ranked[start : start + step]
                rows = s.exec(
                    select(MemoryItem, ItemVector.vector, ItemVector.model)
                    .outerjoin(ItemVector, col(ItemVector.item_id) == col(MemoryItem.id))
                    .where(col(MemoryItem.id).in_(chunk))
                ).all()
                for it, blob, model in rows:
                    if it.status != status or it.level not in levels:
                        continue
                    if not self.view.readable(it.namespace):
                        continue
                    if scope and not (it.scope == scope or it.scope.startswith(scope + "/")):
                        continue
                    if trust and it.trust != trust:
                        continue
                    if blob is not None and model == self.model_id:
                        vectors[it.id] = np.frombuffer(blob, dtype=np.float32)
                    cos = vec_score.get(it.id)
                    if cos is None and qv is not None and it.id in vectors:
                        cos = float(vectors[it.id] @ qv)  # found by BM25 alone
                    if qv is None:  # no vectors (BM25 mode, non-active items): BM25 order
                        base = prior[it.id]
                    else:
                        base = (cos or 0.0) + bonus.get(it.id, 0.0)
                    hits.append(
                        Hit(
                            item=it,
                            score=max(base, 0.0) * utility_factor(it),
                            vector_score=cos,
                            bm25_score=bm_score.get(it.id),
                            vector_rank=vec_pos.get(it.id),
                            bm25_rank=bm_pos.get(it.id),
                        )
                    )
                if len(hits) >= 2 * k:
                    break
        hits.sort(key=lambda h: -h.score)
        top = suppress_duplicates(hits, vectors, threshold=_DUPLICATE_HIT)
        return pack(top, budget_tokens=budget_tokens, k=k)

    def _selective_terms(self, s: Session, terms: list[str]) -> list[str]:
        """Drop query terms that occur in more than max(1000, 3%) of the store's items.

        BM25 ranks every row a term matches; a common word ("report") in a 100k store
        matches tens of thousands and costs tens of milliseconds while adding almost
        nothing to the ranking (its IDF is near zero). At 10k items one word found in
        nearly every item cost ~5 ms of a search (the slowest tenth of the benchmark's
        queries), so stores over 1000 items are checked too. Counting stops at the cap.
        """
        if len(terms) <= 1:
            return terms
        conn = s.connection()
        total = int(conn.exec_driver_sql("SELECT coalesce(max(pk), 0) FROM items").scalar_one())
        if total <= 1000:  # no term can occur in more than the cap
            return terms
        cap = max(1000, total * 3 // 100)
        # every term's count in one statement (a round trip each cost a database server
        # more than the counting)
        sql, params = self.backend.lexical_counts(terms, cap=cap)
        counts = conn.exec_driver_sql(sql, params).one()
        return [term for term, n in zip(terms, counts, strict=True) if n <= cap]

    def strategic(
        self, budget_tokens: int | None = None, scopes: Sequence[str] | None = None
    ) -> list[Hit]:
        """Always-on lessons: active strategic items in ``scopes`` (prefixes; ``global``
        always included), best utility first, up to the first that would overflow the token
        budget (a lesson larger than the whole budget is passed over)."""
        budget = self.settings.strategic_budget_tokens if budget_tokens is None else budget_tokens
        sql, params = strategic_ids(scopes, self.view.read)
        with self._read() as s:
            ids = [r[0] for r in s.connection().exec_driver_sql(sql, params)]

            def best_first() -> Iterator[Hit]:
                for start in range(0, len(ids), 16):
                    chunk = ids[start : start + 16]
                    items = get_many(s, chunk)
                    yield from (
                        Hit(item=items[i], score=items[i].utility) for i in chunk if i in items
                    )

            # only the head that fits is loaded (loading and sizing all 400 candidates was
            # most of a recall's cost at 10k items)
            return pack(best_first(), budget_tokens=budget, stop_at_overflow=True)

    def tool_tips(
        self, tools: Sequence[str], *, budget_tokens: int | None = None
    ) -> dict[str, list[MemoryItem]]:
        """Active tool tips per tool name (scope ``tool/<name>``), best utility first,
        each tool's tips within ``budget_tokens``."""
        budget = self.settings.tool_tip_budget_tokens if budget_tokens is None else budget_tokens
        names = list(dict.fromkeys(tools))
        if not names:
            return {}
        scope = col(MemoryItem.scope)
        scopes = [c for n in names for c in (scope == f"tool/{n}", scope.startswith(f"tool/{n}/"))]
        with self._read() as s:
            # one query for all the tools (one per tool cost ~1 ms each at 10k items); the
            # text columns alone: only the tips that fit are loaded as items (loading every
            # candidate was most of the call)
            rows = (
                s.connection()
                .execute(
                    sa_select(
                        col(MemoryItem.id),
                        col(MemoryItem.scope),
                        col(MemoryItem.title),
                        col(MemoryItem.when_to_use),
                        col(MemoryItem.content),
                    )
                    .where(col(MemoryItem.level) == "tool", col(MemoryItem.status) == "active")
                    .where(col(MemoryItem.namespace).in_(self.view.read))
                    .where(or_(*scopes))
                    .order_by(text(BY_UTILITY), col(MemoryItem.updated_at).desc())
                )
                .all()
            )
            seen = dict.fromkeys(names, 0)
            used = dict.fromkeys(names, 0)
            chosen: dict[str, list[str]] = {n: [] for n in names}
            for item_id, where, title, when, content in rows:  # scope: tool/<name>[/...]
                name = str(where).split("/")[1]
                if name not in seen or seen[name] >= 50:  # the best 50 of each tool
                    continue
                seen[name] += 1
                # what ``pack`` charges: a tip that does not fit is passed over
                cost = estimate_tokens(render_text(item_id, title, when, content) + "\n\n")
                if used[name] + cost > budget:
                    continue
                used[name] += cost
                chosen[name].append(item_id)
            found = get_many(s, [i for ids in chosen.values() for i in ids])
        return {name: [found[i] for i in ids if i in found] for name, ids in chosen.items()}

    def stats(self) -> dict[str, Any]:
        """Counts (of the readable namespaces) by level and status, trust and namespace;
        episodes, versions; the (whole-store) index and file sizes."""
        self._flush_index()  # the index's figures include every change
        ns, ns_params = self.view.condition()
        with self._read() as s:
            conn = s.connection()
            by = [
                (lvl, st, int(n))
                for lvl, st, n in conn.exec_driver_sql(
                    f"SELECT level, status, count(*) FROM items WHERE {ns} GROUP BY level, status",
                    ns_params,
                )
            ]
            trust: dict[str, int] = {
                str(t): int(n)
                for t, n in conn.exec_driver_sql(
                    f"SELECT trust, count(*) FROM items WHERE {ns} GROUP BY trust", ns_params
                )
            }
            per_ns: dict[str, int] = {
                str(name): int(n)
                for name, n in conn.exec_driver_sql(
                    f"SELECT namespace, count(*) FROM items WHERE {ns} GROUP BY namespace",
                    ns_params,
                )
            }
            episodes = conn.exec_driver_sql(
                f"SELECT count(*) FROM episodes WHERE {ns}", ns_params
            ).scalar_one()
            versions = conn.exec_driver_sql(
                "SELECT count(*) FROM item_versions v JOIN items i ON i.id = v.item_id "
                f"WHERE {self.view.condition('i.namespace')[0]}",
                ns_params,
            ).scalar_one()
            seq, epoch = self.db.meta(s)
            version = read_version(conn)
        levels: dict[str, dict[str, int]] = {lv: dict.fromkeys(STATUSES, 0) for lv in LEVELS}
        for lvl, st, n in by:
            levels.setdefault(lvl, dict.fromkeys(STATUSES, 0))[st] = n
        st_ = self.index.read_state()
        return {
            "path": str(self.path),
            "backend": self.backend.name,
            "location": self.backend.location,
            "schema_version": version,
            "namespace": self.view.write,
            "read_namespaces": list(self.view.read),
            "namespaces": {name: per_ns.get(name, 0) for name in self.view.read},
            "items": sum(n for _l, _s, n in by),
            "active": sum(n for _l, s_, n in by if s_ == "active"),
            "levels": levels,
            "trust": {t: int(trust.get(t, 0)) for t in TRUSTS},
            "episodes": int(episodes),
            "versions": int(versions),
            "changes": seq,
            "index": {
                "model": st_.model,
                "count": st_.count,
                "applied_changes": st_.applied_seq,
                "in_sync": st_.applied_seq == seq and st_.epoch == epoch,
            },
            "db_bytes": self.backend.size_bytes(),
        }

    def tree(self) -> list[dict[str, Any]]:
        """Scopes with item counts per level (active items of the readable namespaces),
        sorted by scope."""
        ns, ns_params = self.view.condition()
        with self._read() as s:
            rows = s.connection().exec_driver_sql(
                f"SELECT scope, level, count(*) FROM items WHERE status = 'active' AND {ns} "
                "GROUP BY scope, level ORDER BY scope",
                ns_params,
            )
            out: dict[str, dict[str, int]] = {}
            for scope, level, n in rows:
                out.setdefault(scope, {})[level] = int(n)
        return [{"scope": sc, "counts": counts} for sc, counts in out.items()]
