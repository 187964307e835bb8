"""The model server never outlives its owner; a busy port is a clear error (real processes)."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _local_helpers import require_small_model, server_pids

from agent.config import Settings
from agent.local.errors import ServerError
from agent.local.managed import managed_model
from agent.local.server import ModelServer, ServerConfig, free_port

JOURNEYMAN = [sys.executable, "-c", "from agent.cli import main; main()"]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_serve_on_busy_port_exits_2(busy_port: int) -> None:
    result = subprocess.run(
        [*JOURNEYMAN, "model", "serve", "local-small", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use" in result.stderr


def test_model_server_on_busy_port_raises(busy_port: int, tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    server = ModelServer(ServerConfig(model_path=model, alias="m", port=busy_port))
    with pytest.raises(ServerError, match="already in use") as info:
        server.start()
    assert info.value.exit_code == 2
    assert server.process is None


def _wait_line(proc: subprocess.Popen[str], needle: str, timeout_s: float = 120) -> str:
    """The first stdout line containing ``needle``; fails if the process exits first."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if needle in line:
                return line
            if not line and proc.poll() is not None:
                break
    proc.kill()
    pytest.fail(f"no {needle!r} line from {proc.args!r} (exit {proc.poll()})")


def _assert_gone(port: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while server_pids(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server_pids(port) == [], f"server on port {port} outlived its owner"


def _owner(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    log = open(tmp_path / "stderr.log", "w")
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        # a shell's background jobs inherit SIGINT ignored; Ctrl-C must reach the owner
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


_MANAGED = """
import sys, time
from agent.config import Settings
from agent.local.managed import managed_model
with managed_model(Settings(), "local-small", port=int(sys.argv[1])) as url:
    print("ready", url, flush=True)
    time.sleep(600)
"""


@pytest.mark.local_model
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"]
)
@pytest.mark.parametrize("owner", ["serve", "managed"])
def test_killing_the_owner_leaves_no_server(owner: str, sig: int, tmp_path: Path) -> None:
    require_small_model()
    port = free_port()
    if owner == "serve":
        args = [*JOURNEYMAN, "model", "serve", "local-small", "--port", str(port)]
        needle = "serving"
    else:
        args = [sys.executable, "-c", _MANAGED, str(port)]
        needle = "ready"
    proc = _owner(args, tmp_path)
    try:
        line = _wait_line(proc, needle)
        assert f"http://127.0.0.1:{port}/v1" in line
        assert len(server_pids(port)) == 1
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        _assert_gone(port)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.local_model
def test_managed_mode_stops_server_on_exception() -> None:
    require_small_model()
    port = free_port()
    with (
        pytest.raises(RuntimeError, match="boom"),
        managed_model(Settings(), "local-small", port=port) as url,
    ):
        assert url == f"http://127.0.0.1:{port}/v1"
        assert len(server_pids(port)) == 1
        raise RuntimeError("boom")
    _assert_gone(port, timeout_s=1)
