"""Helpers shared by the local-model tests: tiny fake part wheels, process lookup, the real model."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.config import Settings
from agent.local.catalogue import CATALOGUE, LocalModel, PartWheel

FAKE_PACKAGE = "jmfake-part"
FAKE_VERSION = "1.0.0"


@dataclass
class FakeParts:
    """A find-links folder of fake part wheels and the catalogue entry that pins them."""

    links: Path
    model: LocalModel
    payload: bytes


def _wheel(folder: Path, index: int, data: bytes) -> Path:
    module = f"{FAKE_PACKAGE.replace('-', '_')}{index}"
    path = folder / f"{module}-{FAKE_VERSION}-py3-none-any.whl"
    dist = f"{module}-{FAKE_VERSION}.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{module}/__init__.py", "raise RuntimeError('never import me')\n")
        archive.writestr(f"{module}/data/part{index:02d}.bin", data)
        archive.writestr(
            f"{dist}/METADATA",
            f"Metadata-Version: 2.1\nName: {FAKE_PACKAGE}{index}\nVersion: {FAKE_VERSION}\n",
        )
        archive.writestr(
            f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{dist}/RECORD", "")
    return path


def make_fake_parts(folder: Path, n_parts: int = 3, part_size: int = 50_000) -> FakeParts:
    """Build ``n_parts`` wheels in ``folder`` and a catalogue entry with the right pins."""
    folder.mkdir(parents=True, exist_ok=True)
    chunks = [os.urandom(part_size) for _ in range(n_parts)]
    parts = []
    for index, data in enumerate(chunks, start=1):
        wheel = _wheel(folder, index, data)
        parts.append(
            PartWheel(
                package=f"{FAKE_PACKAGE}{index}",
                version=FAKE_VERSION,
                member=f"{FAKE_PACKAGE.replace('-', '_')}{index}/data/part{index:02d}.bin",
                sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
            )
        )
    payload = b"".join(chunks)
    model = LocalModel(
        name="fake-model",
        file_name="fake-model.gguf",
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        quantization="none",
        licence="test",
        parameters="0",
        hf_repo="nobody/fake-model-GGUF",
        parts=tuple(parts),
    )
    return FakeParts(links=folder, model=model, payload=payload)


def offline_pip_env(links: Path) -> dict[str, str]:
    """Environment that points pip at ``links`` only and keeps Hugging Face out of reach."""
    return {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(links),
        "HF_HUB_OFFLINE": "1",
    }


def server_pids(port: int) -> list[int]:
    """Live (non-zombie) llama.cpp server processes listening on ``port``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        served = b"llama_cpp.server" in argv or b"agent.local.serve" in argv
        if served and str(port).encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def small_model_path() -> Path:
    """Where ``make local-model`` puts the 0.5B model."""
    model = CATALOGUE["qwen2.5-coder-0.5b-instruct-q4_k_m"]
    return model.path(Settings().local.cache_dir)


def require_small_model() -> Path:
    """Skip, with the fix in the reason, only when the small model file is absent."""
    path = small_model_path()
    if not path.is_file():
        pytest.skip(f"local model absent ({path}); run `make local-model`")
    return path
