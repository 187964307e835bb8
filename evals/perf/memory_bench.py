"""Memory benchmark: retrieval quality, search latency, add throughput, token budgets.

    python -m evals.perf.memory_bench [--quick] [--sizes 10,100,1000,10000,100000]
    python -m evals.perf.memory_bench --recall-only --seeds 7,8,9,10,11,12,13,14

Everything is measured in one run on this machine, beside a baseline from the same run:
recall of hybrid search vs vector-only and BM25-only (and vs one vector of the whole
text, how items were embedded before field vectors); search latency vs a bare Chroma
query (with the same query embedding); add throughput with int8 compute vs float compute,
and embedding alone vs padding to 256 tokens (Chroma's default embedder). Large stores are filled in bulk with precomputed vectors
(mixtures of pairs from a pool of embedded filler texts, texts to match), so filling 100k items does not take
an hour of embedding; queries are always embedded live.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from evals.perf.memory_retrieval_set import build, load
from memory import MemorySettings, MemoryStore, estimate_tokens, render_hits

TARGET_P95_MS = {10_000: 15.0, 100_000: 40.0}
TARGET_ADD_PER_S = 200.0

_FILLER_WORDS = (
    "invoice budget report quarterly review hiring onboarding laptop vpn password reset "
    "printer badge parking travel expense approval contract vendor meeting agenda minutes "
    "backup server deploy release incident postmortem customer refund shipment warehouse "
    "inventory payroll holiday policy training survey feedback roadmap design prototype "
    "benchmark database migration schema index cache latency outage alert dashboard metric"
).split()


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _filler_pool(store: MemoryStore, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    texts = []
    for i in range(n):
        words = rng.choice(_FILLER_WORDS, size=int(rng.integers(8, 20)))
        texts.append(f"Note {i}: " + " ".join(words))
    return texts, store.embedder.embed(texts)


def _fill(
    store: MemoryStore, count: int, start: int, pool: tuple[list[str], np.ndarray], seed: int
) -> None:
    """Bulk-add ``count`` filler items (70% procedural, 20% strategic, 10% tool)."""
    texts, vecs = pool
    rng = np.random.default_rng(seed + start)
    batch = 5000
    for b0 in range(0, count, batch):
        n = min(batch, count - b0)
        # mixtures of two embedded filler texts: distinct vectors on the text manifold
        idx = rng.integers(0, len(texts), size=n)
        other = rng.integers(0, len(texts), size=n)
        w = rng.uniform(0.2, 0.8, size=(n, 1)).astype(np.float32)
        v = w * vecs[idx] + (1 - w) * vecs[other]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        levels = rng.choice(["procedural", "strategic", "tool"], size=n, p=[0.7, 0.2, 0.1])
        recs = []
        for j in range(n):
            k = start + b0 + j
            lvl = str(levels[j])
            scope = f"tool/filler_{k % 50}" if lvl == "tool" else f"app/filler{k % 40}/area{k % 7}"
            recs.append(
                {
                    "level": lvl,
                    "scope": scope,
                    "title": f"Filler {k} " + " ".join(texts[idx[j]].split()[2:5]),
                    "content": texts[idx[j]] + " " + texts[other[j]].split(":", 1)[1],
                }
            )
        store.add_many(recs, vectors=v, reason="bench filler")


def recall(store: MemoryStore, queries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """recall@1 and @5 of each search mode over the queries."""
    out: dict[str, dict[str, float]] = {}
    for mode in ("hybrid", "vector", "bm25"):
        r1 = r5 = 0
        for q in queries:
            ids = [h.item.id for h in store.search(q["query"], level="procedural", k=5, mode=mode)]
            r1 += bool(ids) and ids[0] == q["answer"]
            r5 += q["answer"] in ids
        out[mode] = {"r@1": r1 / len(queries), "r@5": r5 / len(queries)}
    return out


def whole_text_recall(store: MemoryStore, queries: list[dict[str, Any]]) -> dict[str, float]:
    """recall@1 and @5 of exact cosine search with one vector of each item's whole text."""
    items = store.list_items(level="procedural", limit=None)
    ids = [it.id for it in items]
    mat = store.embedder.embed([it.embed_text() for it in items])
    qv = store.embedder.embed([q["query"] for q in queries])
    order = np.argsort(-(qv @ mat.T), axis=1)[:, :5]
    r1 = statistics.mean(ids[o[0]] == q["answer"] for o, q in zip(order, queries, strict=True))
    r5 = statistics.mean(
        q["answer"] in {ids[j] for j in o} for o, q in zip(order, queries, strict=True)
    )
    return {"r@1": r1, "r@5": r5}


def recall_table(
    settings: MemorySettings, root: Path, seeds: list[int]
) -> dict[int, dict[str, dict[str, float]]]:
    """Recall of every mode on the committed set (seed 7) or sets built with other seeds."""
    out: dict[int, dict[str, dict[str, float]]] = {}
    for seed in seeds:
        items, queries = load() if seed == 7 else build(seed=seed)
        with MemoryStore.open(root / f"set-{seed}", settings=settings) as store:
            store.add_many(items, reason="retrieval set")
            out[seed] = recall(store, queries)
            out[seed]["whole"] = whole_text_recall(store, queries)
    return out


def print_recall(table: dict[int, dict[str, dict[str, float]]]) -> None:
    """Per-seed recall@1 (recall@5) of each mode, the means, and the verdicts."""
    modes = ("hybrid", "vector", "bm25", "whole")
    print(f"{'seed':>5} " + " ".join(f"{m:>13}" for m in modes) + "   (recall@1 recall@5)")
    for seed, rec in table.items():
        cells = " ".join(f"{rec[m]['r@1']:6.3f} {rec[m]['r@5']:6.3f}" for m in modes)
        print(f"{seed:>5} {cells}")
    if len(table) > 1:
        means = {
            m: (
                statistics.mean(t[m]["r@1"] for t in table.values()),
                statistics.mean(t[m]["r@5"] for t in table.values()),
            )
            for m in modes
        }
        print(f"{'mean':>5} " + " ".join(f"{a:6.3f} {b:6.3f}" for a, b in means.values()))
    wins = sum(
        t["hybrid"]["r@1"] > max(t["vector"]["r@1"], t["bm25"]["r@1"]) for t in table.values()
    )
    r5_ok = all(t["hybrid"]["r@5"] >= 0.9 for t in table.values())
    print(
        "hybrid: vectors + BM25 lead bonus; vector: vector-only (same field vectors); "
        "bm25: BM25-only; whole: one vector of the whole text (the representation before).\n"
        f"hybrid beats vector-only and BM25-only at recall@1 on {wins}/{len(table)} set(s); "
        f"recall@5 target 0.9: {'met' if r5_ok else 'MISSED'}"
    )


def latency(store: MemoryStore, queries: list[str]) -> dict[str, float]:
    """Search p50/p95 (ms, query embedding included) and a bare Chroma HNSW query's p95."""
    for q in queries[:5]:
        store.search(q, level="procedural", k=5)
    times = []
    for q in queries:
        t = time.perf_counter()
        store.search(q, level="procedural", k=5)
        times.append((time.perf_counter() - t) * 1000)
    base = []
    for q in queries:
        t = time.perf_counter()
        vec = store.embedder.embed([q])[0]
        store.index.query(vec, levels=["procedural"], n=5)
        base.append((time.perf_counter() - t) * 1000)
    return {"p50": _p(times, 50), "p95": _p(times, 95), "base_p95": _p(base, 95)}


def budgets(store: MemoryStore, queries: list[str]) -> dict[str, float]:
    """Largest injected-text size relative to its budget (must stay <= 1)."""
    worst = 0.0
    for budget in (100, 600):
        text_ = render_hits(store.strategic(budget_tokens=budget))
        worst = max(worst, estimate_tokens(text_) / budget)
    for q in queries[:10]:
        text_ = render_hits(store.search(q, k=50, budget_tokens=1200))
        worst = max(worst, estimate_tokens(text_) / 1200)
    return {"worst_budget_ratio": worst}


def add_throughput(store: MemoryStore, n: int) -> dict[str, float]:
    """Items per second through ``add_many`` (embedding included), batches of 100, and
    embedding-only rates with padding per batch vs padding to 256 tokens."""
    rng = np.random.default_rng(3)
    recs = [
        {
            "level": "procedural",
            "scope": f"app/bench{i % 9}",
            "title": f"Bench item {i}",
            "content": " ".join(rng.choice(_FILLER_WORDS, size=int(rng.integers(10, 30)))),
        }
        for i in range(n)
    ]
    t = time.perf_counter()
    for b in range(0, n, 100):
        store.add_many(recs[b : b + 100], reason="bench add")
    add_rate = n / (time.perf_counter() - t)
    texts = [r["content"] for r in recs[: min(n, 256)]]
    emb = store.embedder
    t = time.perf_counter()
    emb.embed(texts)
    longest = len(texts) / (time.perf_counter() - t)
    pad256 = _pad256_rate(texts)
    return {"add_per_s": add_rate, "embed_per_s": longest, "embed_pad256_per_s": pad256}


def _pad256_rate(texts: list[str]) -> float:
    """Chroma's default embedder pads every text to 256 tokens; same model, same batches."""
    import tokenizers

    from memory.embeddings import TOKENIZER_PATH, MiniLMEmbedder

    emb = MiniLMEmbedder(threads=1, compute="float")
    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER_PATH))
    tok.enable_truncation(max_length=256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]", length=256)
    t = time.perf_counter()
    for b in range(0, len(texts), 32):
        encs = tok.encode_batch(texts[b : b + 32])
        ids = np.asarray([e.ids for e in encs], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
        emb._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
    return len(texts) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Sizes up to 10k, fewer queries.")
    ap.add_argument("--sizes", default=None, help="Comma-separated store sizes.")
    ap.add_argument(
        "--seeds",
        default="7",
        help="Retrieval sets: 7 is the committed one, others are built with that seed.",
    )
    ap.add_argument("--recall-only", action="store_true", help="Only the retrieval quality.")
    ap.add_argument("--keep", type=Path, default=None, help="Build the store here and keep it.")
    args = ap.parse_args(argv)
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [10, 100, 1000, 10_000]
        if args.quick
        else [10, 100, 1000, 10_000, 100_000]
    )
    n_lat = 100 if args.quick else 200
    seeds = [int(x) for x in args.seeds.split(",")]
    items, queries = load()
    root = args.keep or Path(tempfile.mkdtemp(prefix="jm-memory-bench-"))
    settings = MemorySettings()
    print(f"memory benchmark ({'quick' if args.quick else 'full'}); stores under {root}")
    try:
        # 1. retrieval quality on the retrieval set alone (and on sets of other seeds)
        apps = len({i["scope"].split("/")[1] for i in items})
        print(f"\nretrieval set: {len(items)} SOPs across {apps} apps, {len(queries)} queries")
        print_recall(recall_table(settings, root, seeds))
        if args.recall_only:
            return 0

        # 2. add throughput (embedding included)
        n_add = 500 if args.quick else 2000
        with MemoryStore.open(root / "add", settings=settings) as store:
            thr = add_throughput(store, n_add)
        exact = settings.model_copy(update={"embedding_compute": "float"})
        with MemoryStore.open(root / "add-float", settings=exact) as store:
            thr_f = add_throughput(store, n_add)
        print(
            f"\nadd: {thr['add_per_s']:.0f} items/s in batches of 100 (target >= "
            f"{TARGET_ADD_PER_S:.0f}: {'met' if thr['add_per_s'] >= TARGET_ADD_PER_S else 'MISSED'}); "
            f"with float compute {thr_f['add_per_s']:.0f} items/s "
            f"(int8 {thr['add_per_s'] / thr_f['add_per_s']:.2f}x)\n"
            f"embedding only: {thr['embed_per_s']:.0f}/s int8, one text per run; "
            f"{thr_f['embed_per_s']:.0f}/s float, padded per batch; "
            f"{thr['embed_pad256_per_s']:.0f}/s float, padded to 256 like Chroma's default"
        )

        # 3. latency, budgets and recall as the store grows
        qtexts = [q["query"] for q in queries]
        lat_queries = (qtexts * (n_lat // len(qtexts) + 1))[:n_lat]
        print(
            f"\n{'size':>7} {'fill s':>7} {'p50 ms':>7} {'p95 ms':>7} {'bare p95':>8} "
            f"{'ratio':>6} {'target':>7} {'r@5':>5} {'budget':>6}"
        )
        with MemoryStore.open(root / "grow", settings=settings) as store:
            pool = _filler_pool(store, 2000, seed=11)
            have = 0
            for size in sizes:
                t = time.perf_counter()
                if have < len(items):  # the retrieval set first, then filler
                    take = items[have : min(size, len(items))]
                    store.add_many(take, reason="retrieval set")
                    have += len(take)
                if size > have:
                    _fill(store, size - have, have, pool, seed=5)
                    have = size
                fill_s = time.perf_counter() - t
                lat = latency(store, lat_queries)
                present = {i["id"] for i in items[:have]}
                asked = [q for q in queries if q["answer"] in present][:50]
                r5 = (
                    statistics.mean(
                        q["answer"]
                        in [h.item.id for h in store.search(q["query"], level="procedural", k=5)]
                        for q in asked
                    )
                    if asked
                    else float("nan")
                )
                bud = budgets(store, qtexts)
                target = TARGET_P95_MS.get(size)
                verdict = "-" if target is None else ("met" if lat["p95"] <= target else "MISSED")
                print(
                    f"{have:>7} {fill_s:7.1f} {lat['p50']:7.1f} {lat['p95']:7.1f} "
                    f"{lat['base_p95']:8.1f} {lat['p95'] / lat['base_p95']:6.2f} {verdict:>7} "
                    f"{r5:5.2f} {bud['worst_budget_ratio']:6.2f}",
                    flush=True,
                )
        print(
            "\nratio: hybrid search p95 / bare Chroma HNSW query p95 (same query embedding); "
            "budget: largest injected text / its token budget (<= 1.00 required); "
            "r@5 on up to 50 set queries whose answer is in the store, among the filler."
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
