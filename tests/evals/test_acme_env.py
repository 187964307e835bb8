"""The Acme Corp environment manager with real apps: up, status, reset, down, failures."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.acme import AppStartError, Environment, MissingDependency, PortInUse, UnknownApp
from evals.acme._process import group_alive
from evals.acme.apps.base import ProcSpec
from evals.acme.apps.files import Files, share_root


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Environment]:
    environment = Environment(tmp_path / "run")
    yield environment
    environment.purge()


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return int(resp.status)


def test_up_status_reset_down(env: Environment) -> None:
    state = env.up(["trac", "files"])
    assert set(state.apps) == {"trac", "files"}
    urls = env.urls()
    assert _get(urls["trac_url"] + "/report") == 200
    assert _get(urls["files_url"] + "/") == 200
    assert {s.name: s.running for s in env.status()} == {"trac": True, "files": True}

    # another process sees the same state
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from evals.acme import Environment; "
            f"print([s.running for s in Environment(__import__('pathlib').Path({str(env.run_dir)!r})).status()])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[True, True]"

    # a change on the share is undone by a reset, which keeps the URL
    (share_root(env.data_dir("files")) / "Shared" / "scratch.txt").write_text("x")
    env.reset(["files"])
    assert not (share_root(env.data_dir("files")) / "Shared" / "scratch.txt").exists()
    assert env.urls()["files_url"] == urls["files_url"]
    assert _get(urls["files_url"] + "/") == 200

    assert env.down() == ["trac", "files"]
    assert not any(s.running for s in env.status())


def test_reset_applies_a_seed(env: Environment) -> None:
    def seed(app: str, data: Path) -> None:
        (share_root(data) / "Shared" / "seeded.txt").write_text("hello")

    env.reset(["files"], seed=seed)
    with urllib.request.urlopen(env.urls()["files_url"] + "/Shared/seeded.txt", timeout=5) as r:
        assert r.read() == b"hello"


def test_all_apps_start_fast_and_small(env: Environment) -> None:
    """The issue's budget: every app together up in < 10 s, < 1 GiB resident."""
    env.up()  # first start builds the snapshots
    env.down()
    t0 = time.monotonic()
    env.up()
    seconds = time.monotonic() - t0
    rss = env.rss_bytes()
    print(f"all apps: up in {seconds:.2f} s, {rss / 2**20:.0f} MiB")
    assert all(s.running for s in env.status())
    assert seconds < 10
    assert rss < 2**30


def test_unknown_app(env: Environment) -> None:
    with pytest.raises(UnknownApp, match="choose from trac, files"):
        env.up(["wiki"])


def test_port_in_use_names_the_port(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = Environment(tmp_path / "run", ports={"files": {"http": port}})
        try:
            with pytest.raises(PortInUse, match=f"port {port} for files .* already in use"):
                env.up(["files"])
        finally:
            env.purge()


def test_missing_program_names_the_fix(env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        type(env._apps["mail"]), "programs", (("dovecot-missing-xyz", "dovecot-imapd"),)
    )
    with pytest.raises(MissingDependency, match=r"dovecot-imapd.*make acme-deps"):
        env.up(["mail"])


def test_app_that_exits_is_reported_with_its_log(
    env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Files, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        return [
            ProcSpec(
                name="wsgidav",
                argv=[sys.executable, "-c", "import sys; sys.exit('boom: bad config')"],
            )
        ]

    monkeypatch.setattr(Files, "processes", broken)
    with pytest.raises(AppStartError, match=r"files failed to start: .*exited with code 1.*boom"):
        env.up(["files"])
    assert not any(s.running for s in env.status())


_NEVER_READY = """
import sys
from pathlib import Path
from evals.acme import Environment
from evals.acme.apps.base import ProcSpec
from evals.acme.apps.files import Files

def never_ready(self, data, conf, ports):
    return [ProcSpec(name="wsgidav", argv=[sys.executable, "-c", "import time; time.sleep(120)"])]

Files.processes = never_ready
Environment(Path(sys.argv[1]), start_timeout_s=120).up(["files"])
"""


def test_app_of_a_killed_manager_is_recorded_and_stopped(tmp_path: Path) -> None:
    """An app spawned by a manager SIGKILLed while it waits for readiness is in state.json,
    so ``down`` from another process stops it."""
    run = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", _NEVER_READY, str(run)])
    pgids: list[int] = []
    deadline = time.monotonic() + 60
    while not pgids and time.monotonic() < deadline:
        time.sleep(0.2)
        if (run / "state.json").exists():
            with contextlib.suppress(ValueError):
                state = json.loads((run / "state.json").read_text())
                pgids = state.get("apps", {}).get("files", {}).get("pgids", [])
    child.kill()
    child.wait()
    assert pgids, "the spawned app was never recorded"
    assert group_alive(pgids[0])  # still running: its manager died without stopping it
    env = Environment(run)
    try:
        assert env.down(["files"]) == ["files"]
        assert not group_alive(pgids[0])
    finally:
        env.purge()


def test_an_app_process_no_record_holds_is_stopped(tmp_path: Path) -> None:
    """A run SIGKILLed between starting an app and writing it down leaves a process that
    no state.json names (seen: a tracd alive after a killed benchmark run and its resume).
    The next start in that run folder, and ``down``, stop it; another folder's stays."""
    from evals.acme._process import spawn

    run, other = tmp_path / "run", tmp_path / "other"
    sleeper = ProcSpec(name="stray", argv=[sys.executable, "-c", "import time; time.sleep(120)"])
    env = Environment(run)
    strays = [spawn(sleeper, tmp_path / "logs" / f"s{i}.log", owner=env.run_dir) for i in (1, 2)]
    kept = spawn(sleeper, tmp_path / "logs" / "k.log", owner=other.resolve())
    try:
        env.up(["files"])
        assert strays[0].wait(timeout=10) is not None and strays[1].wait(timeout=10) is not None
        assert {s.name: s.running for s in env.status()}["files"]
        late = spawn(sleeper, tmp_path / "logs" / "late.log", owner=env.run_dir)
        env.down()
        assert late.wait(timeout=10) is not None
        assert kept.poll() is None  # another run folder's process is not this run's to stop
    finally:
        kept.kill()
        kept.wait()
        env.purge()


def test_cli_exit_code_2_on_errors(tmp_path: Path) -> None:
    jm = Path(sys.executable).with_name("journeyman")
    res = subprocess.run(
        [str(jm), "env", "up", "nosuchapp", "--dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert res.returncode == 2
    assert "unknown app(s) nosuchapp" in res.stderr


def test_cli_up_status_down(tmp_path: Path) -> None:
    jm = str(Path(sys.executable).with_name("journeyman"))
    run = str(tmp_path / "run")
    try:
        up = subprocess.run(
            [jm, "env", "up", "files", "--dir", run], capture_output=True, text=True
        )
        assert up.returncode == 0, up.stderr
        state = json.loads((tmp_path / "run" / "state.json").read_text())
        assert _get(state["apps"]["files"]["urls"]["files_url"] + "/") == 200
        st = subprocess.run([jm, "env", "status", "--dir", run], capture_output=True, text=True)
        assert "files" in st.stdout and "up" in st.stdout
    finally:
        down = subprocess.run([jm, "env", "down", "--dir", run], capture_output=True, text=True)
    assert "stopped: files" in down.stdout
