"""Build llama.cpp (through llama-cpp-python) for any x86-64 CPU, and know what was built.

llama-cpp-python compiles llama.cpp with ``GGML_NATIVE=ON`` by default, i.e. for the CPU of
the machine that builds it. Such a binary dies with SIGILL or a general protection fault on
another CPU (seen: AMX tile instructions on a VM that does not grant the tile state), and
pip's wheel cache hands the same binary back even when a rebuild asks for other flags.

So the default build here is *portable*: x86-64-v3 (AVX, AVX2, FMA, F16C, BMI2), no
AVX-512, no AVX-VNNI, no AMX. A build for the builder's own CPU is an explicit opt-in
(``journeyman model build --native``). Wheels are kept in a folder keyed by the version
and the flags (and, for a native build, by the builder's CPU), so a wheel built with other
flags is never picked up; pip's own cache is never used for this package. Each install
writes a record next to the package, which ``journeyman doctor`` and the server read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from agent.local.errors import LocalModelError

LLAMA_CPP_PYTHON = "0.3.36"
Flavour = Literal["portable", "native"]

#: CPU features the portable build's code needs (``/proc/cpuinfo`` names).
PORTABLE_CPU_FEATURES = ("avx", "avx2", "fma", "f16c", "bmi2")

_OFF = ("AVX_VNNI", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16")
_AMX_OFF = ("AMX_TILE", "AMX_INT8", "AMX_BF16")
PORTABLE_FLAGS: tuple[str, ...] = (
    "-DGGML_NATIVE=OFF",
    *(f"-DGGML_{name}=ON" for name in ("AVX", "AVX2", "FMA", "F16C", "BMI2")),
    *(f"-DGGML_{name}=OFF" for name in _OFF + _AMX_OFF),
    "-DGGML_BACKEND_DL=OFF",
    "-DGGML_CPU_ALL_VARIANTS=OFF",
)
# Native: everything this CPU has, except AMX, whose tile state a hypervisor may refuse
# even where cpuinfo lists it (the fault this module exists for).
NATIVE_FLAGS: tuple[str, ...] = ("-DGGML_NATIVE=ON", *(f"-DGGML_{n}=OFF" for n in _AMX_OFF))

RECORD_NAME = "journeyman-build.json"

# Instruction sets beyond x86-64-v3, as objdump (AT&T syntax) prints them.
_BEYOND_BASELINE: dict[str, re.Pattern[str]] = {
    "AMX": re.compile(
        r"\b(ldtilecfg|sttilecfg|tileloadd\w*|tilestored|tilezero|tilerelease|tdp\w+)\b"
    ),
    "AVX-512 (zmm registers)": re.compile(r"%zmm\d+"),
    "AVX-512 (opmask registers)": re.compile(r"%k[0-7]\b"),
    "AVX-512 (upper xmm/ymm registers)": re.compile(r"%[xy]mm(1[6-9]|2\d|3[01])\b"),
    "VNNI": re.compile(r"\b(vpdpbusds?|vpdpwssds?)\b"),
    "AVX-512 BF16": re.compile(r"\b(vcvtne2ps2bf16|vcvtneps2bf16|vdpbf16ps)\b"),
}


class BuildError(LocalModelError):
    """llama.cpp could not be built, installed or inspected as asked."""


@dataclass(frozen=True)
class BuildRecord:
    """What was installed: written next to the package at install time."""

    flavour: Flavour
    version: str
    cmake_args: list[str]
    key: str
    builder_cpu_features: list[str] = field(default_factory=list)
    required_cpu_features: list[str] = field(default_factory=list)


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (empty when they cannot be read, e.g. not Linux)."""
    with contextlib.suppress(OSError):
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("flags"):
                return set(line.partition(":")[2].split())
    return set()


_ISA_FLAG = re.compile(r"^(avx\w*|amx\w*|fma|f16c|bmi\d|sse\w*|ssse3|popcnt|lzcnt|movbe)$")


def cmake_args(flavour: Flavour) -> tuple[str, ...]:
    """The CMake arguments of one build flavour."""
    return PORTABLE_FLAGS if flavour == "portable" else NATIVE_FLAGS


def build_key(flavour: Flavour, *, features: Iterable[str] | None = None) -> str:
    """A key that changes with everything that changes the binary.

    A native build also depends on the builder's CPU, so its instruction-set flags are
    part of its key: a native wheel is never reused on another kind of CPU.
    """
    parts = [LLAMA_CPP_PYTHON, flavour, *cmake_args(flavour), sys.platform, _py_tag()]
    if flavour == "native":
        cpu = cpu_features() if features is None else set(features)
        parts += sorted(f for f in cpu if _ISA_FLAG.match(f))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _py_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def wheel_dir(cache_root: Path, flavour: Flavour, key: str) -> Path:
    """The folder holding the wheel of one (version, flavour, key)."""
    return cache_root.expanduser() / f"llama-cpp-python-{LLAMA_CPP_PYTHON}-{flavour}-{key}"


def default_cache_root() -> Path:
    """Where built wheels are kept: ``$XDG_CACHE_HOME/journeyman/wheels``."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "journeyman" / "wheels"


def package_dir() -> Path | None:
    """The installed ``llama_cpp`` package folder, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_record(pkg: Path | None = None) -> BuildRecord | None:
    """The record of the installed build, or None (not installed, or not built by us)."""
    pkg = pkg or package_dir()
    if pkg is None:
        return None
    try:
        data = json.loads((pkg / RECORD_NAME).read_text(encoding="utf-8"))
        return BuildRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def shared_libraries(pkg: Path | None = None) -> list[Path]:
    """The compiled llama.cpp libraries of the installed package."""
    pkg = pkg or package_dir()
    if pkg is None:
        return []
    # wheels hold copies, not links, of libX.so.0 and libX.so.0.1.2: one name each is enough
    return sorted(p for p in pkg.rglob("*.so") if p.is_file())


def instructions_beyond_baseline(library: Path) -> dict[str, int]:
    """Instruction sets past x86-64-v3 used in ``library``, with a count of lines each.

    Disassembles with ``objdump``; raises :class:`BuildError` when it is missing.
    """
    objdump = shutil.which("objdump")
    if objdump is None:
        raise BuildError("objdump is not installed (Debian: apt-get install binutils)")
    proc = subprocess.Popen(
        [objdump, "-d", "--no-show-raw-insn", str(library)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    found: dict[str, int] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if "\t" not in line:  # labels and headers; instructions follow a tab
            continue
        for name, pattern in _BEYOND_BASELINE.items():
            if pattern.search(line):
                found[name] = found.get(name, 0) + 1
    proc.wait()
    return found


def missing_cpu_features(record: BuildRecord, features: set[str] | None = None) -> list[str]:
    """Features the installed build needs that this CPU lacks (empty: it can run here)."""
    cpu = cpu_features() if features is None else features
    if not cpu:
        return []  # unknown CPU: nothing to say
    return [f for f in record.required_cpu_features if f not in cpu]


def check_runs_here(record: BuildRecord | None = None) -> None:
    """Raise a :class:`BuildError` naming the fix when the installed build cannot run here."""
    record = record or installed_record()
    if record is None:
        return
    missing = missing_cpu_features(record)
    if not missing:
        return
    if record.flavour == "portable":
        raise BuildError(
            f"this CPU lacks {', '.join(missing)}, which the portable llama.cpp build needs "
            "(x86-64 with AVX2); build one for this CPU: journeyman model build --native"
        )
    raise BuildError(
        f"the installed llama.cpp was built for another CPU (this one lacks "
        f"{', '.join(missing)}); rebuild it portably: journeyman model build --force"
    )


Runner = Callable[[list[str], dict[str, str]], None]


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.decode(errors="replace").splitlines()[-15:])
        raise BuildError(f"{' '.join(cmd[:5])} ... failed (exit {result.returncode}):\n{tail}")


def ensure_runtime(
    flavour: Flavour = "portable",
    *,
    force: bool = False,
    cache_root: Path | None = None,
    run: Runner = _run,
    report: Callable[[str], None] = lambda line: None,
) -> BuildRecord:
    """Install llama-cpp-python built as ``flavour``; a no-op when that build is installed.

    The wheel is built once per key into its own folder (``--no-cache-dir``: pip's wheel
    cache is keyed by version only), then installed from there; ``force`` rebuilds it.
    """
    features = cpu_features()
    key = build_key(flavour, features=features)
    current = installed_record()
    if current is not None and current.key == key and not force:
        report(f"llama.cpp {flavour} build {key} is installed")
        return current
    if flavour == "portable" and features and not set(PORTABLE_CPU_FEATURES) <= features:
        missing = sorted(set(PORTABLE_CPU_FEATURES) - features)
        raise BuildError(
            f"this CPU lacks {', '.join(missing)}: the portable build (x86-64 with AVX2) "
            "would not run here; use journeyman model build --native"
        )
    folder = wheel_dir(cache_root or default_cache_root(), flavour, key)
    wheels = sorted(folder.glob("llama_cpp_python-*.whl")) if folder.is_dir() else []
    pip = [sys.executable, "-m", "pip"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if force or not wheels:
        report(f"building llama.cpp ({flavour}, key {key}); a few minutes on two cores")
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".build-") as tmp:
            build_env = {
                **env,
                "CMAKE_ARGS": " ".join(cmake_args(flavour)),
                "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 1),
                "FORCE_CMAKE": "1",
            }
            run(
                [*pip, "wheel", "--no-deps", "--no-cache-dir", "--no-binary", "llama-cpp-python",
                 "-w", tmp, f"llama-cpp-python=={LLAMA_CPP_PYTHON}"],
                build_env,
            )  # fmt: skip
            built = sorted(Path(tmp).glob("llama_cpp_python-*.whl"))
            if not built:
                raise BuildError(f"pip wheel left no llama_cpp_python wheel in {tmp}")
            shutil.rmtree(folder, ignore_errors=True)
            staged = Path(tmp) / "out"
            staged.mkdir()
            shutil.move(str(built[0]), staged / built[0].name)
            os.replace(staged, folder)  # the keyed folder appears whole or not at all
        wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    report(f"installing {wheels[0].name} ({flavour})")
    run([*pip, "install", "--no-deps", "--force-reinstall", "--no-cache-dir", str(wheels[0])], env)
    # the server's own dependencies (fastapi, uvicorn, ...); the package itself is satisfied
    run([*pip, "install", f"llama-cpp-python[server]=={LLAMA_CPP_PYTHON}",
         "--find-links", str(folder)], env)  # fmt: skip
    record = BuildRecord(
        flavour=flavour,
        version=LLAMA_CPP_PYTHON,
        cmake_args=list(cmake_args(flavour)),
        key=key,
        builder_cpu_features=sorted(f for f in features if _ISA_FLAG.match(f)),
        required_cpu_features=list(PORTABLE_CPU_FEATURES)
        if flavour == "portable"
        else sorted(f for f in features if _ISA_FLAG.match(f) and not f.startswith("amx")),
    )
    pkg = package_dir()
    if pkg is None:
        raise BuildError("llama_cpp is still not importable after the install")
    write_record(pkg, record)
    return record


def write_record(pkg: Path, record: BuildRecord) -> None:
    """Write the build record next to the package (replaced with the package)."""
    tmp = pkg / f".{RECORD_NAME}.tmp"
    tmp.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, pkg / RECORD_NAME)
