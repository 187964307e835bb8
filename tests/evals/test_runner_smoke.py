"""The smoke suite through `journeyman bench run` in a subprocess with a scripted model:
stopped with Ctrl-C, resumed, SIGKILLed, resumed again; the results equal an unbroken run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "evals.bench.scripted:build"
TASKS = "close-duplicate,create-milestone"


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


def _lines(out: Path) -> int:
    path = out / "results.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def _wait_lines(proc: subprocess.Popen[str], out: Path, n: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while _lines(out) < n:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"no {n} result line(s) in {timeout} s"
        time.sleep(0.05)


def _results(out: Path) -> dict[tuple[str, int], tuple[float, list[tuple[str, bool]]]]:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {
        (r["task"], r["iteration"]): (
            r["score"],
            [(c["name"], c["passed"]) for c in r["checkpoints"]],
        )
        for r in rows
    }


def _apps_stopped(out: Path) -> bool:
    state = json.loads((out / "envs" / "w0" / "state.json").read_text())
    for app in state["apps"].values():
        for pgid in app["pgids"]:
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                pass
    return True


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_smoke_interrupted_killed_and_resumed_equals_unbroken(tmp_path: Path) -> None:
    env = _env(tmp_path)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    unbroken = subprocess.Popen(
        _bench(whole),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            _bench(broken, *extra),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            # a shell that started pytest in the background leaves SIGINT ignored, and an
            # ignored SIGINT is inherited: restore it so Ctrl-C reaches the runner
            preexec_fn=_default_sigint,
        )

    # Ctrl-C after the first result: a clean stop, the result kept, the apps down
    proc = start()
    _wait_lines(proc, broken, 1)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "--resume" in err
    assert _lines(broken) >= 1 and _apps_stopped(broken)
    kept = _lines(broken)

    # resumed, then SIGKILLed as soon as one more result is written
    proc = start("--resume")
    _wait_lines(proc, broken, kept + 1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _lines(broken)
    assert killed_at < 4, "the run finished before it could be killed"

    done = subprocess.run(
        _bench(broken, "--resume"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{killed_at} finished task(s) skipped" in done.stderr or killed_at == 0
    _out, err = unbroken.communicate(timeout=300)
    assert unbroken.returncode == 0, err[-3000:]

    assert _results(broken) == _results(whole)
    scores = _results(whole)
    assert scores[("smoke/close-duplicate", 1)][0] < 1.0  # a novice in pass 1
    assert scores[("smoke/close-duplicate", 2)][0] == 1.0  # uses what it wrote in pass 1
    assert _apps_stopped(broken) and _apps_stopped(whole)

    report = subprocess.run(
        [sys.executable, "-m", "agent", "bench", "report", str(broken)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    summary = json.loads((broken / "report.json").read_text())
    assert [p["mean_score"] for p in summary["curves"]["continual"]] == [
        round(sum(scores[(f"smoke/{t}", i)][0] for t in TASKS.split(",")) / 2, 4) for i in (1, 2)
    ]
