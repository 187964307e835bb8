"""The embedders: offline MiniLM (hash-pinned) and an OpenAI-compatible endpoint."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from memory import EmbeddingError, MemorySettings, MemoryStore, MiniLMEmbedder, OpenAIEmbedder
from memory import embeddings as emb_mod


def test_minilm_vectors_are_unit_and_meaningful() -> None:
    emb = MiniLMEmbedder()
    v = emb.embed(["close a ticket in Trac", "resolve a Trac ticket", "bake a chocolate cake"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2]


def test_padding_per_batch_does_not_change_vectors() -> None:
    emb = MiniLMEmbedder()
    alone = emb.embed(["short text"])[0]
    batched = emb.embed(["short text", "a much longer text " * 30])[0]
    assert float(alone @ batched) > 0.9999


def test_tampered_tokenizer_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "tok.json"
    bad.write_bytes(emb_mod.TOKENIZER_PATH.read_bytes().replace(b"[UNK]", b"[UNX]", 1))
    monkeypatch.setattr(emb_mod, "TOKENIZER_PATH", bad)
    emb_mod._load_minilm.cache_clear()
    try:
        with pytest.raises(EmbeddingError, match="sha256"):
            MiniLMEmbedder(threads=3)
    finally:
        emb_mod._load_minilm.cache_clear()


def test_int8_compute_agrees_with_float_and_has_its_own_model_id() -> None:
    texts = ["close a ticket in Trac", "export the sales report as CSV", "bake a cake"]
    fast, exact = MiniLMEmbedder(), MiniLMEmbedder(compute="float")
    assert fast.model_id != exact.model_id  # never mixed in one index
    agree = (fast.embed(texts) * exact.embed(texts)).sum(axis=1)
    assert agree.min() > 0.98, agree


def test_int8_model_is_built_once_and_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    emb_mod._load_minilm.cache_clear()
    try:
        first = MiniLMEmbedder(cache_dir=tmp_path).embed(["resolve a Trac ticket"])[0]
        (built,) = tmp_path.glob("minilm-dq8-*.onnx")
        assert not list(tmp_path.glob("*.part"))  # written whole, then renamed
        stamp = built.stat().st_mtime_ns
        emb_mod._load_minilm.cache_clear()
        MiniLMEmbedder(cache_dir=tmp_path)
        assert built.stat().st_mtime_ns == stamp  # reused, not rebuilt
        built.write_bytes(built.read_bytes()[:4096])  # a torn copy
        emb_mod._load_minilm.cache_clear()
        again = MiniLMEmbedder(cache_dir=tmp_path).embed(["resolve a Trac ticket"])[0]
        assert built.stat().st_size > 4096
        assert float(first @ again) > 0.9999
    finally:
        emb_mod._load_minilm.cache_clear()


def test_unwritable_cache_builds_privately(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    emb_mod._load_minilm.cache_clear()
    try:
        v = MiniLMEmbedder(cache_dir=blocker / "cache").embed(["a ticket"])
        assert v.shape == (1, 384)
    finally:
        emb_mod._load_minilm.cache_clear()


def test_int8_without_onnx_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "onnx":  # not installed
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setitem(sys.modules, "onnx", None)  # nor importable
    emb_mod._load_minilm.cache_clear()
    try:
        with pytest.raises(EmbeddingError, match="embedding_compute = 'float'"):
            MiniLMEmbedder(cache_dir=tmp_path)
        assert MiniLMEmbedder(compute="float").embed(["a"]).shape == (1, 384)
    finally:
        emb_mod._load_minilm.cache_clear()


def test_switching_compute_re_embeds_the_store(tmp_path: Path) -> None:
    path = tmp_path / "m"
    with MemoryStore.open(path, settings=MemorySettings(embedding_compute="float")) as store:
        it = store.add(
            level="procedural", scope="app/x", title="Close a ticket", content="Resolve as fixed."
        )
    with MemoryStore.open(path) as store:
        assert store.index.state.model == emb_mod.MINILM_INT8_MODEL_ID + "+fields"
        assert any("embedding model changed" in r for r in store.repairs)
        assert store.search("close the ticket", k=1)[0].item.id == it.id
        assert store.verify().ok


class _Handler(BaseHTTPRequestHandler):
    dim = 8

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, text in enumerate(inputs):
            rng = np.random.default_rng(sum(map(ord, text)) % 1000)  # same text, same vector
            data.append(
                {"object": "embedding", "index": i, "embedding": rng.normal(size=self.dim).tolist()}
            )
        reply = {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        raw = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def embed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_embedder_and_model_change_reindexes(embed_server: str, tmp_path: Path) -> None:
    emb = OpenAIEmbedder(model="fake-embed", base_url=embed_server, api_key="x")
    v = emb.embed(["a", "b", "a"])
    assert v.shape == (3, 8) and np.allclose(v[0], v[2])
    path = tmp_path / "m"
    with MemoryStore.open(path) as store:  # built with MiniLM
        it = store.add(
            level="procedural", scope="app/x", title="Close a ticket", content="Resolve as fixed."
        )
    settings = MemorySettings(
        embedder="openai", embedding_model="fake-embed", embedding_base_url=embed_server
    )
    with MemoryStore.open(path, settings=settings) as store:
        assert store.index.state.model == "openai:fake-embed+fields"
        assert any("embedding model changed" in r for r in store.repairs)
        assert store.search("Close a ticket", k=1)[0].item.id == it.id
        assert store.verify().ok
