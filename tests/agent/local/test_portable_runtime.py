"""The local runtime runs on any x86-64 CPU: a portable build, readiness that means an answer,
a crashing server reported in one line, and ``journeyman doctor``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.config import Settings
from agent.local import build
from agent.local.catalogue import CATALOGUE
from agent.local.errors import ServerCrashed
from agent.local.managed import amanaged_model

JOURNEYMAN = [sys.executable, "-c", "from agent.cli import main; main()"]
STAND_IN = Path(__file__).with_name("sigill_server.py")
SMALL = CATALOGUE["qwen2.5-coder-0.5b-instruct-q4_k_m"]


def test_installed_llama_cpp_has_no_instruction_beyond_x86_64_v3() -> None:
    pkg = build.package_dir()
    assert pkg is not None, "llama-cpp-python is not installed: make local-runtime"
    libs = build.shared_libraries(pkg)
    assert any(lib.name == "libggml-cpu.so" for lib in libs), libs
    for lib in libs:
        assert build.instructions_beyond_baseline(lib) == {}, lib
    record = build.installed_record(pkg)
    assert record is not None and record.flavour == "portable"
    assert "-DGGML_NATIVE=OFF" in record.cmake_args


@pytest.mark.parametrize(
    ("flag", "body", "expected"),
    [
        (
            "-mavx512f",
            "__m512 a = _mm512_loadu_ps(p); _mm512_storeu_ps(p, _mm512_add_ps(a, a));",
            "AVX-512 (zmm registers)",
        ),
        ("-mamx-tile", "_tile_release(); p[0] = 1;", "AMX"),
        (
            "-mavx2",
            "__m256 a = _mm256_loadu_ps(p); _mm256_storeu_ps(p, _mm256_add_ps(a, a));",
            None,
        ),
    ],
)
def test_scanner_finds_what_a_native_build_would_use(
    tmp_path: Path, flag: str, body: str, expected: str | None
) -> None:
    """The check above would fail on a native build: the scanner sees AVX-512 and AMX code."""
    src = tmp_path / "k.c"
    src.write_text(f"#include <immintrin.h>\nvoid k(float *p) {{ {body} }}\n")
    lib = tmp_path / "libk.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", flag, str(src), "-o", str(lib)], check=True)
    found = build.instructions_beyond_baseline(lib)
    if expected is None:
        assert found == {}
    else:
        assert expected in found


def test_build_key_follows_flags_and_native_cpu() -> None:
    avx2 = {"avx", "avx2", "fma", "f16c", "bmi2"}
    assert build.build_key("portable", features=avx2) == build.build_key(
        "portable", features=avx2 | {"avx512f"}
    )
    assert build.build_key("native", features=avx2) != build.build_key(
        "native", features=avx2 | {"avx512f"}
    )
    assert build.build_key("native", features=avx2) != build.build_key("portable", features=avx2)
    assert "-DGGML_AMX_TILE=OFF" in build.cmake_args("native")


def test_a_build_for_another_cpu_is_refused_before_it_runs() -> None:
    record = build.BuildRecord(
        flavour="native",
        version="x",
        cmake_args=[],
        key="k",
        required_cpu_features=["avx2", "avx512f"],
    )
    assert build.missing_cpu_features(record, {"avx", "avx2"}) == ["avx512f"]
    portable = build.BuildRecord(
        flavour="portable",
        version="x",
        cmake_args=[],
        key="k",
        required_cpu_features=list(build.PORTABLE_CPU_FEATURES),
    )
    assert build.missing_cpu_features(portable, {"sse4_2", "avx"}) == [
        "avx2",
        "fma",
        "f16c",
        "bmi2",
    ]


def _stand_in_env(tmp_path: Path, die_on: int) -> dict[str, str]:
    cache = tmp_path / "models"
    cache.mkdir()
    with (cache / SMALL.file_name).open("wb") as fh:  # sparse: present by size, no bytes
        fh.truncate(SMALL.size)
    command = ["{python}", str(STAND_IN), "--port", "{port}", "--die-on", str(die_on)]
    return {
        **os.environ,
        "JOURNEYMAN_LOCAL__CACHE_DIR": str(cache),
        "JOURNEYMAN_LOCAL__SERVER_COMMAND": json.dumps(command),
        "JOURNEYMAN_LOCAL__PORT": "0",
        "HOME": str(tmp_path),
        "OPENAI_API_KEY": "",
    }


def _assert_one_line_crash(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("journeyman:")]
    assert len(lines) == 1, result.stderr
    assert "SIGILL" in lines[0]
    assert "journeyman model build --force" in lines[0]


def test_model_serve_reports_a_server_that_dies_on_its_first_completion(tmp_path: Path) -> None:
    env = _stand_in_env(tmp_path, die_on=1)
    result = subprocess.run(
        [*JOURNEYMAN, "model", "serve", "local-small", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    _assert_one_line_crash(result)
    assert "before it was ready" in result.stderr


def test_run_in_managed_mode_reports_the_crash(tmp_path: Path) -> None:
    env = _stand_in_env(tmp_path, die_on=1)
    result = subprocess.run(
        [
            *JOURNEYMAN,
            "run",
            "Write hello to a.txt",
            "--model",
            "local-small",
            "--workspace",
            str(tmp_path / "ws"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
    )
    _assert_one_line_crash(result)


async def test_a_crash_mid_run_is_reported_as_a_crash_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in _stand_in_env(tmp_path, die_on=2).items():
        if key.startswith("JOURNEYMAN_"):
            monkeypatch.setenv(key, value)
    from agent.llm import Message, build_llm

    settings = Settings()
    started = time.monotonic()
    with pytest.raises(ServerCrashed, match="SIGILL") as info:
        async with amanaged_model(settings, "local-small") as base_url:
            llm = build_llm(settings, "local-small", base_url=base_url)
            await llm.complete([Message(role="user", content="hello")])
    assert info.value.exit_code == 2
    # the retry budget (several attempts with backoff) was not spent on a dead server
    assert time.monotonic() - started < 30


def test_doctor_passes_a_healthy_check_and_names_the_fix_of_a_failing_one(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "JOURNEYMAN_LOCAL__CACHE_DIR": str(tmp_path / "empty"),
        "JOURNEYMAN_MEMORY__PATH": str(tmp_path / "memory"),
    }
    result = subprocess.run(
        [*JOURNEYMAN, "doctor"], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "ok   python:" in out
    assert "ok   llama.cpp: portable build" in out
    assert f"FAIL model {SMALL.name}: absent" in out
    assert f"fix: journeyman model pull {SMALL.name}" in out
    assert "FAIL completion" in out
    assert "check(s) failed" in result.stderr


def test_doctor_exits_0_when_all_checks_hold() -> None:
    from agent.cli._doctor import Check, run_checks

    def good(settings: Settings) -> Check:
        return Check("good", True, "fine")

    def broken(settings: Settings) -> Check:
        raise RuntimeError("boom")

    results = run_checks(Settings(), (good, broken))
    assert [c.ok for c in results] == [True, False]
    assert "boom" in results[1].detail
    assert shutil.which("objdump"), "binutils: the llama.cpp check disassembles"
