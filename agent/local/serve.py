"""``python -m agent.local.serve``: llama-cpp-python's server with a prompt cache that stays small.

llama.cpp keeps one context: a prompt that shares only a few tokens with the one before
it is evaluated whole. An agent's calls alternate roles (the executor's steps, then the
reflector's verdict, then the executor's next attempt), and each role has its own system
prompt, so each change of role evaluated the whole prompt again (30-40 s on two cores for
1,600-1,900 tokens), its system prompt, tools and task included, which the server had
evaluated a minute before. In one sitting of the learning curve, 14 of 63 calls shared at
most 6 tokens with the call before, and took 581 of the 1,450 s of prompt evaluation.

llama-cpp-python's own RAM cache (``--cache true``) would restore them, but every state it
saves holds a copy of the logits buffer (``n_batch`` x vocabulary floats: 311 MB for Qwen's
152k tokens) that its size limit does not count; the 1.5B server grew to 22 GiB within
~20 agent calls and was killed. :class:`PromptCache` keeps one row of it (after a restore
llama.cpp always decodes at least one token before it samples, so the saved logits are
never read), counts every byte it keeps, and drops a state whose tokens a newer state
extends (the newer one serves every prompt the older one could).

Off by default (``[local] prompt_cache_mb = 0``). ``python -m evals.perf.prompt_cache_bench``
on two idle cores, the 0.5B model, two scripted tasks (24 requests): 9,963 prompt tokens
evaluated with the cache against 12,311 without (0.81x), but the sequence took 1.09x as
long: saving a state after every reply (43 MB of llama.cpp's state for ~3,600 tokens) and
restoring one costs more than the 2,348 tokens it spared. With llama-cpp-python's stock
``save_state`` (a fresh 311 MB copy of the logits each time, 2.5 s) it took 1.59x as long;
:func:`lean_save_state` replaces it here (0.06 s a save in-process). Worth turning on where
prompt evaluation is slower per token than here, or prompts longer; measure with the bench.

Arguments are llama-cpp-python's (``python -m llama_cpp.server --help``), plus
``--prompt_cache_mb N`` (0: no cache).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from typing import Any

from llama_cpp.llama_cache import LlamaRAMCache

FLAG = "--prompt_cache_mb"


def state_bytes(state: Any) -> int:
    """What a saved state holds in memory: llama.cpp's state, the logits, the token ids."""
    return int(state.llama_state_size) + int(state.scores.nbytes) + int(state.input_ids.nbytes)


class PromptCache(LlamaRAMCache):
    """The most recently used prompt states, within ``capacity_bytes`` counted in full."""

    @property
    def cache_size(self) -> int:
        return sum(state_bytes(s) for s in self.cache_state.values())

    def __setitem__(self, key: Sequence[int], value: Any) -> None:
        key = tuple(key)
        if value.scores.ndim == 2 and len(value.scores) > 1:
            value.scores = value.scores[-1:].copy()  # broadcast back by load_state
        for old in [k for k in self.cache_state if key[: len(k)] == k]:
            del self.cache_state[old]  # the new state extends it
        self.cache_state[key] = value
        while len(self.cache_state) > 1 and self.cache_size > self.capacity_bytes:
            self.cache_state.popitem(last=False)
        if self.cache_size > self.capacity_bytes:  # one state larger than the whole cache
            self.cache_state.clear()


def lean_save_state(llama: Any) -> Any:
    """``Llama.save_state`` without its copy of the whole logits buffer (one row, as
    :class:`PromptCache` keeps) and with one copy of llama.cpp's state instead of three."""
    import ctypes

    import llama_cpp
    from llama_cpp.llama import LlamaState

    size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
    buffer = (ctypes.c_uint8 * int(size))()
    used = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size))
    if used > int(size):
        raise RuntimeError("Failed to copy llama state data")
    return LlamaState(
        scores=llama._scores[-1:].copy(),
        input_ids=llama.input_ids.copy(),
        n_tokens=llama.n_tokens,
        llama_state=bytes(memoryview(buffer)[:used]),
        llama_state_size=used,
        seed=llama._seed,
    )


def split_args(argv: list[str]) -> tuple[int, list[str]]:
    """The cache size in MB (default 0: none) and llama-cpp-python's own arguments."""
    rest, mb = [], 0
    it = iter(argv)
    for arg in it:
        if arg == FLAG or arg.startswith(FLAG + "="):
            value = arg.partition("=")[2] if "=" in arg else next(it, "")
            try:
                mb = int(value)
            except ValueError:
                raise SystemExit(f"{FLAG} takes a whole number of MB, not {value!r}") from None
            if mb < 0:
                raise SystemExit(f"{FLAG} takes a number of MB >= 0, not {mb}")
            continue
        rest.append(arg)
    return mb, rest


def main(argv: list[str] | None = None) -> None:
    mb, rest = split_args(sys.argv[1:] if argv is None else argv)
    from llama_cpp.server import model as server_model
    from llama_cpp.server.__main__ import main as serve

    load = server_model.LlamaProxy.load_llama_from_model_settings

    def load_with_cache(settings: Any) -> Any:
        llama: Any = load(settings)
        if mb > 0:
            llama.set_cache(PromptCache(capacity_bytes=mb << 20))
            llama.save_state = types.MethodType(lean_save_state, llama)  # after every reply
        return llama

    server_model.LlamaProxy.load_llama_from_model_settings = staticmethod(load_with_cache)  # type: ignore[method-assign]
    sys.argv = [sys.argv[0], *rest]
    serve()


if __name__ == "__main__":
    main()
