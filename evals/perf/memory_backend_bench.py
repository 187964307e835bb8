"""PostgreSQL + a Chroma server beside the embedded backend (SQLite + a Chroma folder),
measured in one process on this machine and printed as ratios.

    python -m evals.perf.memory_backend_bench [--sizes 10000,100000] [--seeds 7,8,9]
    python -m evals.perf.memory_backend_bench --recall-only --seeds 7,8,9,10,11,12,13,14
    python -m evals.perf.memory_backend_bench --pg-url postgresql://... --index-url http://...

Without ``--pg-url`` a throwaway PostgreSQL cluster and ``chroma run`` are started here
(evals/perf/local_servers.py; fsync on, as deployed). Parts:

1. retrieval quality: hybrid recall@1 and @5 (and BM25-only) on the retrieval sets, per
   backend: the PostgreSQL full-text ranking must keep hybrid recall@5 within 0.02;
2. add rate: single ``add`` calls (one transaction each) and ``add_many`` batches of 100,
   embedding included;
3. search p95 (query embedding included) as both stores grow to each size, filled with
   the same items (the memory bench's filler, precomputed vectors).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from evals.perf.local_servers import chroma, postgres
from evals.perf.memory_bench import _FILLER_WORDS, _fill, _filler_pool, latency, recall
from evals.perf.memory_retrieval_set import build, load
from memory import MemorySettings, MemoryStore

TARGET_RATIO = 2.0


@contextlib.contextmanager
def servers(pg_url: str | None, index_url: str | None) -> Iterator[tuple[str, str]]:
    """The given servers, or local throwaway ones."""
    with contextlib.ExitStack() as stack:
        pg = pg_url or stack.enter_context(postgres())
        ix = index_url or stack.enter_context(chroma())
        yield pg, ix


def _fresh_db(url: str, name: str) -> str:
    """A new database ``name`` beside the one ``url`` names; its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


class Pair:
    """Settings of an embedded store and a PostgreSQL store, opened side by side."""

    def __init__(self, root: Path, pg_url: str, index_url: str) -> None:
        self.root, self.pg_url, self.index_url = root, pg_url, index_url

    def settings(self, backend: str, name: str) -> MemorySettings:
        if backend == "sqlite":
            return MemorySettings()
        url = _fresh_db(self.pg_url, f"jm_bench_{name}")
        return MemorySettings(backend="postgres", url=url, index_url=self.index_url)

    def open(self, backend: str, name: str) -> MemoryStore:
        return MemoryStore.open(
            self.root / f"{backend}-{name}", settings=self.settings(backend, name)
        )


def recall_part(pair: Pair, seeds: list[int]) -> None:
    """Hybrid and BM25-only recall of both backends on each retrieval set."""
    print(f"{'seed':>5} {'backend':>9} {'hybrid r@1':>10} {'r@5':>6} {'bm25 r@1':>9} {'r@5':>6}")
    worst = 0.0
    for seed in seeds:
        items, queries = load() if seed == 7 else build(seed=seed)
        got: dict[str, dict[str, dict[str, float]]] = {}
        for backend in ("sqlite", "postgres"):
            with pair.open(backend, f"set{seed}") as store:
                store.add_many(items, reason="retrieval set")
                got[backend] = recall(store, queries)
            h, b = got[backend]["hybrid"], got[backend]["bm25"]
            print(
                f"{seed:>5} {backend:>9} {h['r@1']:10.3f} {h['r@5']:6.3f} "
                f"{b['r@1']:9.3f} {b['r@5']:6.3f}",
                flush=True,
            )
        worst = max(worst, got["sqlite"]["hybrid"]["r@5"] - got["postgres"]["hybrid"]["r@5"])
    verdict = "met" if worst <= 0.02 else "MISSED"
    print(f"largest hybrid recall@5 drop, PostgreSQL vs SQLite: {worst:+.3f} (<= 0.02: {verdict})")


def _records(n: int, tag: str) -> list[dict[str, Any]]:
    rng = np.random.default_rng(3)
    return [
        {
            "level": "procedural",
            "scope": f"app/bench{i % 9}",
            "title": f"{tag} item {i}",
            "content": " ".join(rng.choice(_FILLER_WORDS, size=int(rng.integers(10, 30)))),
        }
        for i in range(n)
    ]


def add_part(pair: Pair, n_single: int, n_batch: int) -> None:
    """Items/s through single adds and batches of 100, both backends."""
    rates: dict[str, dict[str, float]] = {}
    for backend in ("sqlite", "postgres"):
        with pair.open(backend, "add") as store:
            store.embedder.embed(["warm up"])
            recs = _records(n_single, "single")
            t = time.perf_counter()
            for r in recs:
                store.add(**r)
            single = n_single / (time.perf_counter() - t)
            recs = _records(n_batch, "batch")
            t = time.perf_counter()
            for b in range(0, n_batch, 100):
                store.add_many(recs[b : b + 100], reason="bench add")
            batch = n_batch / (time.perf_counter() - t)
        rates[backend] = {"single": single, "batch": batch}
    s, p = rates["sqlite"], rates["postgres"]
    print(
        f"add, one item per call: sqlite {s['single']:.0f}/s, postgres {p['single']:.0f}/s "
        f"(ratio {p['single'] / s['single']:.2f})\n"
        f"add_many, batches of 100: sqlite {s['batch']:.0f}/s, postgres {p['batch']:.0f}/s "
        f"(ratio {p['batch'] / s['batch']:.2f}); embedding included"
    )


def latency_part(pair: Pair, sizes: list[int], n_lat: int) -> None:
    """Search p50/p95 as both stores grow; PostgreSQL's p95 over SQLite's."""
    items, queries = load()
    qtexts = [q["query"] for q in queries]
    lat_queries = (qtexts * (n_lat // len(qtexts) + 1))[:n_lat]
    print(
        f"{'size':>7} {'fill s sqlite':>13} {'postgres':>9} {'p50 sqlite':>10} {'postgres':>9} "
        f"{'p95 sqlite':>10} {'postgres':>9} {'ratio':>6} {'<=2x':>5}"
    )
    with contextlib.ExitStack() as stack:
        stores = {b: stack.enter_context(pair.open(b, "grow")) for b in ("sqlite", "postgres")}
        pool = _filler_pool(stores["sqlite"], 2000, seed=11)
        have = 0
        for size in sizes:
            fill: dict[str, float] = {}
            for backend, store in stores.items():
                t = time.perf_counter()
                done = have
                if done < len(items):
                    take = items[done : min(size, len(items))]
                    store.add_many(take, reason="retrieval set")
                    done += len(take)
                if size > done:
                    _fill(store, size - done, done, pool, seed=5)
                fill[backend] = time.perf_counter() - t
            have = max(size, have)
            lat = {b: latency(s, lat_queries) for b, s in stores.items()}
            ratio = lat["postgres"]["p95"] / lat["sqlite"]["p95"]
            print(
                f"{have:>7} {fill['sqlite']:13.1f} {fill['postgres']:9.1f} "
                f"{lat['sqlite']['p50']:10.1f} {lat['postgres']['p50']:9.1f} "
                f"{lat['sqlite']['p95']:10.1f} {lat['postgres']['p95']:9.1f} {ratio:6.2f} "
                f"{'met' if ratio <= TARGET_RATIO else 'MISSED':>5}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="Comma-separated store sizes.")
    ap.add_argument("--seeds", default="7", help="Retrieval sets (7: the committed one).")
    ap.add_argument("--recall-only", action="store_true")
    ap.add_argument("--skip-recall", action="store_true")
    ap.add_argument("--queries", type=int, default=200, help="Searches timed per size.")
    ap.add_argument("--adds", type=int, default=300, help="Single adds timed (batches: 5x).")
    ap.add_argument("--pg-url", default=None, help="A PostgreSQL server (databases made in it).")
    ap.add_argument("--index-url", default=None, help="A Chroma server (http://host:port).")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="jm-backend-bench-"))
    try:
        with servers(args.pg_url, args.index_url) as (pg_url, index_url):
            pair = Pair(root, pg_url, index_url)
            print(f"embedded (SQLite + Chroma folder) vs PostgreSQL + Chroma server {index_url}")
            if not args.skip_recall:
                print("\n1. retrieval quality")
                recall_part(pair, [int(s) for s in args.seeds.split(",")])
            if args.recall_only:
                return 0
            print("\n2. add rate")
            add_part(pair, args.adds, 5 * args.adds)
            print("\n3. search latency (ms, query embedding included)")
            latency_part(pair, [int(s) for s in args.sizes.split(",")], args.queries)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
