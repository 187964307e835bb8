"""Runs resumable anywhere: with the PostgreSQL backend, a run SIGKILLed on one "machine" is
resumed by `journeyman resume` from a fresh process in another working directory, with
its own runs folder and a copy of the workspace, the first machine's folders gone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pg_cluster import PgCluster

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXPECTED = {f"s{s}-{n}" for s in (1, 2) for n in range(4)}


def _env(home: Path, url: str | None) -> dict[str, str]:
    """The environment of one machine: its own runs folder, memory folder and config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEYMAN_", "OPENAI_"))}
    env |= {
        "JOURNEYMAN_LLM": "_resume_llm:build",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "JOURNEYMAN_RUNS_DIR": str(home / "runs"),
        "JOURNEYMAN_MEMORY__PATH": str(home / "memory"),
        "JOURNEYMAN_TOOLS__ARTIFACTS_DIR": ".artifacts",
        "XDG_CONFIG_HOME": str(home / "config"),
        "JOURNEYMAN_MODEL": "scripted",
        "JOURNEYMAN_PROFILES": '{"scripted": {"model": "scripted", "api_key_env": null}}',
    }
    if url is not None:
        env |= {"JOURNEYMAN_MEMORY__BACKEND": "postgres", "JOURNEYMAN_MEMORY__URL": url}
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def _kill_after_markers(proc: subprocess.Popen[bytes], log: Path, n: int) -> str:
    """The run's thread id; the run is SIGKILLed once ``n`` markers are in ``log``."""
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    assert first["event"] == "start"
    deadline = time.monotonic() + 180
    while not (log.is_file() and len(log.read_text().split()) >= n):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the run wrote no markers"
        time.sleep(0.05)
    time.sleep(0.1)  # inside an action's sleep, or just after it
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return str(first["thread_id"])


def test_run_killed_on_one_machine_resumes_on_another(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    url = pg_cluster.create_database("runs_anywhere")
    one, two = tmp_path / "machine-one", tmp_path / "machine-two"
    for home in (one, two):
        home.mkdir()
    ws = one / "ws"
    ws.mkdir()
    proc = subprocess.Popen(
        _cli("run", "Log the markers", "--workspace", str(ws), "--json"),
        cwd=one,
        env=_env(one, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    thread = _kill_after_markers(proc, ws / "log.txt", 3)
    before = (ws / "log.txt").read_text().split()
    assert 3 <= len(before) < 8, before
    assert not (one / "runs" / thread / "checkpoints.sqlite").exists()  # not on this machine

    # the user carries the workspace over; nothing else of machine one survives
    shutil.copytree(ws, two / "ws-copy")
    shutil.rmtree(one)

    done = subprocess.run(
        _cli("resume", thread, "--workspace", str(two / "ws-copy"), "--json"),
        cwd=two,
        env=_env(two, url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["event"] == "resume"
    assert events[-1]["event"] == "done" and events[-1]["data"]["outcome"] == "achieved"
    markers = (two / "ws-copy" / "log.txt").read_text().split()
    assert len(markers) == len(set(markers)), markers  # no action ran twice
    assert markers[: len(before)] == before
    assert set(markers) <= EXPECTED and len(EXPECTED - set(markers)) <= 1, markers

    # the same run is not resumable from a machine that keeps runs in its own folders
    local = subprocess.run(
        _cli("resume", thread, "--workspace", str(two / "ws-copy")),
        cwd=two,
        env=_env(tmp_path / "machine-three", None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert local.returncode == 2 and f"no run {thread!r}" in local.stderr


def test_unreachable_database_is_one_line_and_runs_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with socket.socket() as s:  # a port nobody listens on: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/runs"
    done = subprocess.run(
        _cli("run", "Log the markers", "--workspace", str(ws)),
        cwd=tmp_path,
        env=_env(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journeyman: error: "), done.stderr[-3000:]
    assert f"127.0.0.1:{port}" in lines[0]
    assert not (ws / "log.txt").exists()  # no action ran
    resumed = subprocess.run(
        _cli("resume", "20260101-000000-abcdef"),
        cwd=tmp_path,
        env=_env(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 2
    lines = resumed.stderr.strip().splitlines()
    assert len(lines) == 1, resumed.stderr[-3000:]
    assert lines[0].startswith(f"journeyman: error: PostgreSQL is not reachable at {url} ")


def test_connection_lost_mid_run_is_one_line_and_resume_finishes(
    tmp_path: Path, pg_cluster: PgCluster
) -> None:
    import psycopg

    url = pg_cluster.create_database("runs_cut_off")
    ws = tmp_path / "ws"
    ws.mkdir()
    env = _env(tmp_path, url)
    proc = subprocess.Popen(
        _cli("run", "Log the markers", "--workspace", str(ws), "--json"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    thread = json.loads(proc.stdout.readline())["thread_id"]
    log = ws / "log.txt"
    deadline = time.monotonic() + 180
    while not (log.is_file() and len(log.read_text().split()) >= 2):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the run wrote no markers"
        time.sleep(0.05)
    # the server ends every session of the run's database (as a restart or failover would)
    with psycopg.connect(pg_cluster.url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            ("runs_cut_off",),
        )
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journeyman: error: "), err[-3000:]
    assert f"journeyman resume {thread}" in lines[0]
    before = log.read_text().split()
    assert len(before) < 8, before  # it stopped before the end

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
    assert set(markers) <= EXPECTED and len(EXPECTED - set(markers)) <= 1, markers
