"""Hybrid retrieval: cosine plus a BM25 lead bonus, re-rank by utility, drop near-duplicates,
pack into a token budget. Pure functions over ranked ids; the store does the I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from memory.records import MemoryItem

_FTS_WORD = re.compile(r"[A-Za-z0-9]+")
STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how i in into is it its me my of on or our
    should so that the their then there this to up was we what when where which who why will
    with you your please need want via using use get""".split()
)


def estimate_tokens(text: str) -> int:
    """A conservative token count for budgets: about one token per 3.5 characters.

    LLM tokenizers average ~4 characters per token on English prose; erring high keeps
    the injected text inside its budget whatever the model. The one estimate of the
    project: the store packs hits with it and the agent sizes its prompts with it.
    """
    return math.ceil(len(text) / 3.5) if text else 0


def fts_terms(text: str, *, max_terms: int = 12) -> list[str]:
    """The query's content words (no stopwords, no repeats), in order."""
    seen: list[str] = []
    for word in _FTS_WORD.findall(text.lower()):
        if word in STOPWORDS or len(word) < 2 or word in seen:
            continue
        seen.append(word)
    return seen[:max_terms]


def fts_query(text: str, *, max_terms: int = 12) -> str | None:
    """An FTS5 MATCH expression: the query's content words OR'ed, or None."""
    return match_expr(fts_terms(text, max_terms=max_terms))


def match_expr(terms: list[str]) -> str | None:
    """OR the terms into an FTS5 MATCH expression (None when empty)."""
    return " OR ".join(f'"{w}"' for w in terms) if terms else None


@dataclass
class Hit:
    """A retrieved item with its scores."""

    item: MemoryItem
    score: float
    vector_score: float | None = None
    bm25_score: float | None = None
    vector_rank: int | None = None
    bm25_rank: int | None = None
    tokens: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The item's id."""
        return self.item.id

    def to_record(self) -> dict[str, object]:
        """JSON-ready summary (CLI ``--json``)."""
        return {
            "id": self.item.id,
            "level": self.item.level,
            "scope": self.item.scope,
            "title": self.item.title,
            "score": round(self.score, 6),
            "vector_score": None if self.vector_score is None else round(self.vector_score, 4),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 4),
            "utility": round(self.item.utility, 4),
            "tokens": self.tokens,
        }


def lexical_bonus(
    bm_rank: Sequence[str], bm_score: dict[str, float], *, weight: float
) -> dict[str, float]:
    """The fusion's lexical term: BM25's best match gets ``weight`` times its lead.

    The lead is ``(s1 - s2) / s1`` over the two best BM25 scores (1 when only one item
    matches): a rare term that singles out one item (an error code, a ticket field) moves it
    up, while the many look-alikes that share an app's name and common words (a lead near 0)
    leave the vector order alone. On the retrieval set, adding BM25 by reciprocal rank or by
    normalised score lowered recall@1 below vector-only; this bonus raised it (8 seeds).
    """
    if not bm_rank or weight <= 0:
        return {}
    s1 = bm_score[bm_rank[0]]
    s2 = bm_score[bm_rank[1]] if len(bm_rank) > 1 else 0.0
    if s1 <= 0:
        return {}
    return {bm_rank[0]: weight * max(s1 - s2, 0.0) / s1}


def fusion_prior(
    vec_rank: Sequence[str],
    vec_score: dict[str, float],
    bm_rank: Sequence[str],
    bm_score: dict[str, float],
    bonus: dict[str, float],
) -> dict[str, float]:
    """An upper bound of each candidate's fused score, to fetch candidates in order.

    A BM25-only candidate's cosine is unknown until its vector is read, but it is at most the
    vector ranking's last score (which holds all items when it was not cut at ``full``).
    Without a vector ranking, the order is BM25's (scores scaled to the best one).
    """
    if not vec_rank:
        top = max(bm_score.values(), default=0.0) or 1.0
        return {i: bm_score[i] / top for i in bm_rank}
    floor = vec_score[vec_rank[-1]]
    prior = {i: vec_score[i] + bonus.get(i, 0.0) for i in vec_rank}
    for i in bm_rank:
        if i not in prior:
            prior[i] = floor + bonus.get(i, 0.0)
    return prior


def utility_factor(item: MemoryItem) -> float:
    """Re-ranking multiplier from 0.75 (always failed) to 1.25 (always helped); 1 unused."""
    return 0.75 + 0.5 * item.utility


def suppress_duplicates(
    hits: Sequence[Hit], vectors: dict[str, np.ndarray], *, threshold: float
) -> list[Hit]:
    """Keep the best of each group of hits whose vectors are nearly identical."""
    kept: list[Hit] = []
    mat: np.ndarray | None = None  # the kept hits' vectors, one row each
    n = 0
    for hit in hits:
        vec = vectors.get(hit.item.id)
        if vec is not None and mat is not None and n and float(np.max(mat[:n] @ vec)) >= threshold:
            continue
        kept.append(hit)
        if vec is not None:
            if mat is None:
                mat = np.empty((len(hits), vec.shape[0]), dtype=np.float32)
            mat[n] = vec
            n += 1
    return kept


def pack(
    hits: Iterable[Hit],
    *,
    budget_tokens: int | None,
    k: int | None = None,
    stop_at_overflow: bool = False,
) -> list[Hit]:
    """Hits in order whose rendered text fits the token budget (and at most ``k``).

    A hit that does not fit is passed over; with ``stop_at_overflow`` the first hit that
    would fit an empty budget but not what is left ends the packing, so a lazy ``hits``
    is consumed only that far.
    """
    out: list[Hit] = []
    used = 0
    for hit in hits:
        if k is not None and len(out) >= k:
            break
        hit.tokens = estimate_tokens(hit.item.render() + "\n\n")  # separator included
        if budget_tokens is not None and used + hit.tokens > budget_tokens:
            if stop_at_overflow and hit.tokens <= budget_tokens:
                break
            continue
        used += hit.tokens
        out.append(hit)
    return out


def render_hits(hits: Sequence[Hit]) -> str:
    """The text injected into a prompt for these hits (blank line between items)."""
    return "\n\n".join(h.item.render() for h in hits)
