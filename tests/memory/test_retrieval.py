"""The fusion's pure functions (the store's use of them is in test_contract)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from memory.embeddings import embed_fields, normalise
from memory.retrieval import fusion_prior, lexical_bonus


def test_lexical_bonus_is_the_best_matchs_lead() -> None:
    scores = {"a": 10.0, "b": 6.0, "c": 1.0}
    assert lexical_bonus(["a", "b", "c"], scores, weight=0.3) == {"a": pytest.approx(0.12)}
    # look-alikes with nearly equal scores: almost no bonus
    tie = lexical_bonus(["a", "b"], {"a": 5.0, "b": 4.99}, weight=0.3)
    assert tie["a"] < 0.001
    # a single match (a rare term) gets the whole weight
    assert lexical_bonus(["x"], {"x": 2.0}, weight=0.3) == {"x": pytest.approx(0.3)}
    assert lexical_bonus([], {}, weight=0.3) == {}
    assert lexical_bonus(["a", "b"], scores, weight=0.0) == {}


def test_fusion_prior_bounds_bm25_only_candidates_by_the_last_vector_score() -> None:
    vec_rank, vec_score = ["v1", "v2"], {"v1": 0.8, "v2": 0.5}
    bm_rank, bm_score = ["b1", "v2"], {"b1": 9.0, "v2": 3.0}
    bonus = lexical_bonus(bm_rank, bm_score, weight=0.3)
    prior = fusion_prior(vec_rank, vec_score, bm_rank, bm_score, bonus)
    assert prior["v1"] == pytest.approx(0.8)
    assert prior["v2"] == pytest.approx(0.5)
    assert prior["b1"] == pytest.approx(0.5 + 0.3 * 6 / 9)
    # no vector ranking (BM25 mode, or items that are not indexed): BM25's order
    only_bm = fusion_prior([], {}, bm_rank, bm_score, bonus)
    assert sorted(only_bm, key=lambda i: -only_bm[i]) == ["b1", "v2"]


class _Fake:
    """An embedder with a fixed vector per text (counts its calls)."""

    model_id, dim = "fake", 3

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        table = {"t": [1, 0, 0], "w": [0, 1, 0], "c": [0, 0, 1], " ": [1, 1, 1]}
        return normalise(np.asarray([table[t] for t in texts], dtype=np.float32))


def test_embed_fields_sums_each_fields_vector_in_one_call() -> None:
    fake = _Fake()
    out = embed_fields(fake, [["t", "w", "c"], ["t", "", "c"], ["", "", ""]])
    assert len(fake.calls) == 1 and fake.calls[0] == ["t", "w", "c", "t", "c", " "]
    assert np.allclose(out[0], np.ones(3) / np.sqrt(3))
    assert np.allclose(out[1], np.array([1, 0, 1]) / np.sqrt(2))
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)
    assert embed_fields(fake, []).shape[0] == 0
