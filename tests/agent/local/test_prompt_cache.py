"""The local server's prompt cache: bounded by what it really keeps, and a role change is cheap.

The cache's bookkeeping is tested on llama-cpp-python's own state objects; the effect on a
real llama.cpp server with the small model: a prompt that shares its head with the one
before the last is evaluated from where they part, and the reply is the one a server
without the cache gives.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from _local_helpers import require_small_model
from llama_cpp.llama import LlamaState

from agent.config import Settings
from agent.local.serve import PromptCache, split_args, state_bytes
from agent.local.server import ModelServer, ServerConfig, llama_cpp_command

VOCAB = 1000


def state(tokens: list[int], kv_bytes: int = 1000, rows: int = 64) -> LlamaState:
    return LlamaState(
        input_ids=np.array(tokens, dtype=np.intc),
        scores=np.ones((rows, VOCAB), dtype=np.single),
        n_tokens=len(tokens),
        llama_state=b"\0" * kv_bytes,
        llama_state_size=kv_bytes,
        seed=0,
    )


def test_a_saved_state_keeps_one_row_of_logits_and_counts_it() -> None:
    cache = PromptCache(capacity_bytes=1 << 20)
    cache[[1, 2, 3]] = state([1, 2, 3])
    kept = cache[[1, 2, 3, 4]]
    assert kept.scores.shape == (1, VOCAB)
    assert cache.cache_size == 1000 + VOCAB * 4 + 3 * 4 == state_bytes(kept)


def test_a_restored_state_fills_the_logits_buffer_by_broadcast() -> None:
    """llama-cpp-python's load_state assigns the saved rows into its buffer; one row must fit."""
    cache = PromptCache(capacity_bytes=1 << 20)
    cache[[1, 2, 3]] = state([1, 2, 3])
    buffer = np.zeros((64, VOCAB), dtype=np.single)
    saved = cache[[1, 2, 3]]
    buffer[: saved.n_tokens, :] = saved.scores.copy()  # what load_state does
    assert buffer[:3].sum() == 3 * VOCAB and buffer[3:].sum() == 0


def test_a_state_that_a_newer_one_extends_is_dropped() -> None:
    cache = PromptCache(capacity_bytes=1 << 20)
    cache[[1, 2]] = state([1, 2])
    cache[[7, 8]] = state([7, 8])
    cache[[1, 2, 3, 4]] = state([1, 2, 3, 4])
    assert list(cache.cache_state) == [(7, 8), (1, 2, 3, 4)]
    # the longest shared head wins the lookup
    assert cache[[1, 2, 3, 9]].n_tokens == 4
    assert cache[[7, 5]].n_tokens == 2


def test_least_recently_used_states_go_first_when_full() -> None:
    one = state_bytes(state([0], kv_bytes=50_000, rows=1))
    cache = PromptCache(capacity_bytes=3 * one + 100)
    for head in (10, 20, 30):
        cache[[head]] = state([head], kv_bytes=50_000)
    _ = cache[[10, 11]]  # used: now the most recent
    cache[[40]] = state([40], kv_bytes=50_000)
    assert sorted(k[0] for k in cache.cache_state) == [10, 30, 40]
    assert cache.cache_size <= cache.capacity_bytes


def test_a_state_larger_than_the_cache_is_not_kept() -> None:
    cache = PromptCache(capacity_bytes=10_000)
    cache[[1]] = state([1], kv_bytes=1_000)
    cache[[2]] = state([2], kv_bytes=50_000)
    assert len(cache.cache_state) == 0
    with pytest.raises(KeyError):
        cache[[2]]


def test_the_cache_flag_is_taken_out_of_the_server_arguments() -> None:
    assert split_args(["--model", "m.gguf", "--prompt_cache_mb", "256", "--port", "1"]) == (
        256,
        ["--model", "m.gguf", "--port", "1"],
    )
    assert split_args(["--prompt_cache_mb=0"]) == (0, [])
    assert split_args(["--model", "m"])[0] == 0  # off unless asked for
    with pytest.raises(SystemExit, match="whole number of MB, not 'lots'"):
        split_args(["--prompt_cache_mb", "lots"])
    with pytest.raises(SystemExit, match=">= 0, not -5"):
        split_args(["--prompt_cache_mb", "-5"])


def test_the_configured_size_reaches_the_server_command(tmp_path: Path) -> None:
    settings = Settings(local={"prompt_cache_mb": 300})
    cfg = ServerConfig(
        model_path=tmp_path / "m.gguf", alias="m", prompt_cache_mb=settings.local.prompt_cache_mb
    )
    cmd = llama_cpp_command(cfg, 8000)
    assert cmd[1:3] == ["-m", "agent.local.serve"]
    assert cmd[cmd.index("--prompt_cache_mb") + 1] == "300"
    # off (the default): llama-cpp-python's own server, as before
    plain = llama_cpp_command(ServerConfig(model_path=tmp_path / "m.gguf", alias="m"), 8000)
    assert plain[1:3] == ["-m", "llama_cpp.server"] and "--prompt_cache_mb" not in plain


SYSTEM_A = "You are the executor. " + " ".join(
    f"Rule {i}: leave {i}.csv as it is unless the task says otherwise." for i in range(40)
)
SYSTEM_B = "You are the checker. " + " ".join(
    f"Check {i}: quote the evidence for claim {i}." for i in range(40)
)
EVAL = re.compile(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens")


def _ask(url: str, system: str, user: str) -> str:
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "max_tokens": 8,
        "temperature": 0,
    }
    resp = httpx.post(f"{url}/chat/completions", json=body, timeout=600)
    resp.raise_for_status()
    return str(resp.json()["choices"][0]["message"]["content"])


def _alternate(cache_mb: int) -> tuple[list[str], list[tuple[int, int]]]:
    """Executor, checker, executor again with one more line: replies and (reused, evaluated)."""
    server = ModelServer(
        ServerConfig(
            model_path=require_small_model(), alias="m", n_ctx=2048, prompt_cache_mb=cache_mb
        )
    )
    url = server.start()
    try:
        replies = [
            _ask(url, SYSTEM_A, "Task: list the files."),
            _ask(url, SYSTEM_B, "Was the task done?"),
            _ask(url, SYSTEM_A, "Task: list the files.\nObservation: a.csv b.csv"),
        ]
        log = server.log_tail(10_000)
    finally:
        server.stop()
    return replies, [(int(m[1]), int(m[2])) for m in EVAL.finditer(log)]


def test_a_prompt_after_a_change_of_role_is_evaluated_from_where_it_differs() -> None:
    plain, plain_evals = _alternate(0)
    cached, cached_evals = _alternate(64)
    assert cached == plain  # the same replies: a restored state is the state evaluated
    # without the cache the third prompt shares a few tokens with the second; with it, all
    # of the first prompt but its last turn is restored
    assert plain_evals[-1][0] < 10
    reused, evaluated = cached_evals[-1]
    assert reused > 300 and evaluated < 40, cached_evals
    assert evaluated < plain_evals[-1][1] / 10
