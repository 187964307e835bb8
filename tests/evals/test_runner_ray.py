"""The smoke suite through `journeyman bench run --ray ADDRESS` on a real Ray cluster (a head
with two worker slots on 127.0.0.1), with a scripted model: SIGKILLed after its first
result, resumed on Ray, it gives the results of an unbroken local run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from ray_cluster import RayCluster

ROOT = Path(__file__).resolve().parents[2]
MODEL = "evals.bench.scripted:build"
TASKS = "close-duplicate,create-milestone"
TITLES = {
    "smoke/close-duplicate": "Close duplicate ticket #5",
    "smoke/create-milestone": "Create milestone v2.5",
}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEYMAN_", "OPENAI_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "JOURNEYMAN_MEMORY__PATH": str(tmp_path / "default-memory"),
        "JOURNEYMAN_RUNS_DIR": str(tmp_path / "default-runs"),
    }
    return env


def _bench(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "agent", "bench", "run", "smoke", "--model", MODEL,
        "--protocol", "continual", "--iterations", "2", "--tasks", TASKS,
        "--out", str(out), "--quiet", *extra,
    ]  # fmt: skip


def _rows(out: Path) -> list[dict[str, Any]]:
    path = out / "results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _results(out: Path) -> dict[tuple[str, int], tuple[float, list[tuple[str, bool]]]]:
    return {
        (r["task"], r["iteration"]): (
            r["score"],
            [(c["name"], c["passed"]) for c in r["checkpoints"]],
        )
        for r in _rows(out)
    }


def _apps_stopped(out: Path) -> bool:
    for state_file in (out / "envs").glob("w*/state.json"):
        for app in json.loads(state_file.read_text())["apps"].values():
            for pgid in app["pgids"]:
                try:
                    os.killpg(pgid, 0)
                    return False
                except ProcessLookupError:
                    pass
    return True


def test_smoke_on_ray_killed_and_resumed_equals_local(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    env = _env(tmp_path)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    unbroken = subprocess.Popen(
        _bench(local), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    ray_run = [*_bench(on_ray), "--ray", ray_cluster.address, "--workers", "2"]

    # SIGKILL the driver as soon as the first result is written
    proc = subprocess.Popen(
        ray_run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _rows(on_ray):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no result from Ray in 300 s"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = len(_rows(on_ray))
    assert killed_at < 4, "the run finished before it could be killed"

    done = subprocess.run(
        [*ray_run, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    said = " ".join(done.stderr.split())  # rich wraps long lines
    assert f"on Ray ({ray_cluster.address}, 2 worker(s))" in said
    # a result recorded while the other worker's attempt ran has no snapshot of its own
    # (the store held part of that attempt's writes): the run goes back to the last
    # result recorded alone and runs the ones after it again
    killed_rows = _rows(on_ray)[:killed_at]
    alone = [i + 1 for i, r in enumerate(killed_rows) if r["memory_snapshot"]]
    settled = alone[-1] if alone else 0
    assert not killed_rows[0]["memory_snapshot"]  # the first ended beside the second
    assert (f"{settled} finished task(s) skipped" in said) == (settled > 0)
    again = killed_at - settled
    assert (f"{again} finished task(s) run again" in said) == (again > 0)
    _out, err = unbroken.communicate(timeout=400)
    assert unbroken.returncode == 0, err[-3000:]

    assert _results(on_ray) == _results(local)
    scores = _results(local)
    assert scores[("smoke/close-duplicate", 1)][0] < 1.0  # a novice in pass 1
    assert scores[("smoke/close-duplicate", 2)][0] == 1.0  # uses what it wrote in pass 1
    rows = _rows(on_ray)
    assert {r["worker"] for r in rows} == {0, 1}  # both Ray workers ran attempts
    # the barrier: no attempt of pass 2 started before every attempt of pass 1 had ended
    first = [r for r in rows if r["iteration"] == 1]
    assert min(r["started_at"] for r in rows if r["iteration"] == 2) >= max(
        r["finished_at"] for r in first
    )
    passes = {
        name: [json.loads(line) for line in (out / "iterations.jsonl").read_text().splitlines()]
        for name, out in (("local", local), ("ray", on_ray))
    }
    assert [(i["iteration"], i["mean_score"]) for i in passes["ray"]] == [
        (i["iteration"], i["mean_score"]) for i in passes["local"]
    ]
    # the workers' memory writes went to the one store the runner carries across passes
    assert passes["ray"][1]["memory_levels"].get("procedural", 0) >= 2
    assert _apps_stopped(on_ray) and _apps_stopped(local)


def test_unreachable_ray_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    done = subprocess.run(
        [*_bench(out), "--ray", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"journeyman: error: Ray is not reachable at 127.0.0.1:{port}")
    assert not (out / "manifest.json").exists() and not (out / "results.jsonl").exists()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_on_ray_stops_the_workers_apps_and_resumes(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    env = _env(tmp_path)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    unbroken = subprocess.Popen(
        _bench(local), cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    ray_run = [*_bench(on_ray), "--ray", ray_cluster.address, "--workers", "2"]
    proc = subprocess.Popen(
        ray_run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True, preexec_fn=_default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _rows(on_ray):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no result from Ray in 300 s"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-3000:]
    assert "--resume" in err
    assert _apps_stopped(on_ray)  # the workers stopped their apps before the driver left
    kept = len(_rows(on_ray))

    done = subprocess.run(
        [*ray_run, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{kept} finished task(s) skipped" in " ".join(done.stderr.split())
    _out, err = unbroken.communicate(timeout=400)
    assert unbroken.returncode == 0, err[-3000:]
    assert _results(on_ray) == _results(local)
    assert _apps_stopped(on_ray)


@pytest.mark.slow  # ~35 s more on the session's cluster; the default run keeps the kill test
def test_each_ray_worker_talks_to_its_own_endpoint(tmp_path: Path, ray_cluster: RayCluster) -> None:
    """--endpoints: worker i sends its model calls to endpoint i (two OpenAI-compatible
    servers here; they answer nonsense, so the attempts end early, which is enough)."""
    out = tmp_path / "out"
    with FakeOpenAI() as first, FakeOpenAI() as second:
        env = _env(tmp_path) | {
            "JOURNEYMAN_PROFILES": json.dumps(
                {
                    "remote": {
                        "model": "fake-model",
                        "base_url": "http://unused",
                        "api_key_env": None,
                    }
                }
            )
        }
        done = subprocess.run(
            [
                sys.executable, "-m", "agent", "bench", "run", "smoke", "--model", "remote",
                "--protocol", "no-memory", "--tasks", TASKS, "--out", str(out), "--quiet",
                "--ray", ray_cluster.address, "--workers", "2",
                "--endpoints", f"{first.base_url},{second.base_url}",
            ],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        rows = _rows(out)
        assert sorted(r["worker"] for r in rows) == [0, 1]  # one task each
        for row in rows:
            mine, other = (first, second) if row["worker"] == 0 else (second, first)
            title = TITLES[row["task"]]
            assert mine.requests and all(title in json.dumps(b) for b in mine.requests)
            assert not any(title in json.dumps(b) for b in other.requests)
    assert _apps_stopped(out)


def test_more_workers_than_the_cluster_holds_is_one_line(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [*_bench(out), "--ray", ray_cluster.address, "--workers", "3"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert "has 2 CPU(s), too few for --workers 3" in lines[0]
    assert not (out / "manifest.json").exists() and not (out / "results.jsonl").exists()
