"""Prompt and generation tokens/s of two llama.cpp builds, interleaved in one run.

Each build is a folder holding an installed ``llama_cpp`` package (``pip install --no-deps
--target DIR WHEEL``); ``--a`` defaults to the venv's own. Every round runs one child per
build on the same model, prompt and thread count, so load from elsewhere hits both alike;
the printed ratio (b / a) is the figure to read, not the absolute rates.

    python -m evals.perf.llama_build_bench --b /tmp/native-target --model local --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, sys, time
from llama_cpp import Llama
path, threads, n_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
text = ("Each row of sales.csv has a region, a date and an amount. " * 24).strip()
prompt_tokens = len(llm.tokenize(text.encode()))
llm.reset(); t0 = time.perf_counter(); llm.create_completion(text, max_tokens=1, temperature=0)
t_prompt = time.perf_counter() - t0
llm.reset(); t0 = time.perf_counter()
out = llm.create_completion(text, max_tokens=n_gen, temperature=0, stop=[])
t_all = time.perf_counter() - t0
gen = out["usage"]["completion_tokens"]
print(json.dumps({"prompt_tps": prompt_tokens / t_prompt,
                  "gen_tps": (gen - 1) / max(t_all - t_prompt, 1e-9), "gen": gen}))
"""


def _run(target: str | None, model: str, threads: int, n_gen: int) -> dict[str, float]:
    env = dict(os.environ)
    if target:
        env["PYTHONPATH"] = target + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, model, str(threads), str(n_gen)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Print per-build medians and the b/a ratios."""
    from agent.config import Settings, resolve_profile
    from agent.local.catalogue import get_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", default="", help="folder with build A (default: the venv's)")
    parser.add_argument("--b", required=True, help="folder with build B")
    parser.add_argument("--model", default="local", help="local profile name")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--gen", type=int, default=48)
    args = parser.parse_args()
    settings = Settings()
    prof = resolve_profile(settings, args.model)[1]
    assert prof.local_model, f"{args.model} is not a local profile"
    path = str(get_model(prof.local_model).path(settings.local.cache_dir))
    runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    for _ in range(args.rounds):
        for name, target in (("a", args.a or None), ("b", args.b)):
            runs[name].append(_run(target, path, args.threads, args.gen))
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("prompt_tps", "gen_tps")}
        for name, rs in runs.items()
    }
    for name in ("a", "b"):
        print(f"{name}: prompt {med[name]['prompt_tps']:.1f} tok/s, "
              f"generation {med[name]['gen_tps']:.1f} tok/s")  # fmt: skip
    print(f"ratio b/a: prompt {med['b']['prompt_tps'] / med['a']['prompt_tps']:.2f}x, "
          f"generation {med['b']['gen_tps'] / med['a']['gen_tps']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
