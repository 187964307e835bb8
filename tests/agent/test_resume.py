"""SIGKILL in the middle of a run, then `journeyman resume`: it finishes, no action twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEYMAN_", "OPENAI_"))}
    env |= {
        "JOURNEYMAN_LLM": "_resume_llm:build",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "JOURNEYMAN_RUNS_DIR": str(tmp_path / "runs"),
        "JOURNEYMAN_MEMORY__PATH": str(tmp_path / "memory"),
        "JOURNEYMAN_TOOLS__ARTIFACTS_DIR": ".artifacts",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        # a profile with no subtask cap: the scripted run plans two subtasks
        "JOURNEYMAN_MODEL": "scripted",
        "JOURNEYMAN_PROFILES": '{"scripted": {"model": "scripted", "api_key_env": null}}',
    }
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def test_sigkill_then_resume_runs_no_action_twice(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    env = _env(tmp_path)
    proc = subprocess.Popen(
        _cli("run", "Log the markers", "--workspace", str(ws), "--json"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "start"
    thread = first["thread_id"]
    log = ws / "log.txt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if log.is_file() and len(log.read_text().split()) >= 3:
            break
        time.sleep(0.05)
    time.sleep(0.1)  # inside the third action's sleep, or just after it
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = log.read_text().split()
    assert 3 <= len(before) < 8, before

    done = subprocess.run(
        _cli("resume", thread, "--json"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["data"]["outcome"] == "achieved"
    markers = log.read_text().split()
    assert len(markers) == len(set(markers)), markers  # no action ran twice
    assert markers[: len(before)] == before
    expected = {f"s{s}-{n}" for s in (1, 2) for n in range(4)}
    assert set(markers) <= expected and len(expected - set(markers)) <= 1, markers
