"""A real, throwaway Ray cluster for tests: ``ray start --head --block`` on 127.0.0.1 and
free ports, in its own session and temporary folder, stopped at the end with no process
left behind (the ones that linger are killed by pid and reported).

    with RayCluster(num_cpus=2) as ray_head:
        ray_head.address  # "127.0.0.1:PORT", for `journeyman bench run ... --ray ADDRESS`

Its workers import journeyman from this checkout (``PYTHONPATH``), as every node of a real
cluster runs the same checkout and virtualenv (docs/DEPLOY.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
READY = "Ray runtime started"


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (all held open until all are chosen)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _session_members(sid: int) -> list[int]:
    """Pids of the live processes in session ``sid`` (the head and everything it started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # field 6 of stat: the session id
            pids.append(int(entry.name))
    return pids


class RayCluster:
    """One Ray head with ``num_cpus`` worker slots (see the module docstring)."""

    def __init__(self, num_cpus: int = 2) -> None:
        self.num_cpus = num_cpus
        self.port, *self._ports = _free_ports(4)
        self.address = f"127.0.0.1:{self.port}"
        self._tmp = Path(tempfile.mkdtemp(prefix="jm-ray-"))
        self._proc: subprocess.Popen[str] | None = None
        self.leftovers: list[int] = []

    def start(self, timeout_s: float = 180.0) -> RayCluster:
        """Start the head and wait until it says it runs."""
        ray = Path(sys.executable).with_name("ray")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        # a loopback-only cluster without token auth (a token in ~/.ray would switch it on
        # for the head but not for drivers that do not set RAY_AUTH_MODE)
        env |= {
            "PYTHONPATH": str(ROOT),
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "disabled",
            # its Python agents start slowly on two busy cores; the raylet's 30 s is short
            "RAY_agent_register_timeout_ms": "180000",
        }
        ports = [
            f"--{name}={port}"
            for port, name in zip(
                self._ports,
                (
                    "node-manager-port",
                    "object-manager-port",
                    "ray-client-server-port",
                ),
                strict=True,
            )
        ]
        log = (self._tmp / "head.log").open("w")
        self._proc = subprocess.Popen(
            [
                str(ray), "start", "--head", "--block", f"--num-cpus={self.num_cpus}",
                "--num-gpus=0", "--node-ip-address=127.0.0.1", f"--port={self.port}",
                "--include-dashboard=false", "--disable-usage-stats",
                "--object-store-memory=100000000", f"--temp-dir={self._tmp}", *ports,
            ],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self._tmp,
            start_new_session=True, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while READY not in (self._tmp / "head.log").read_text():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = (self._tmp / "head.log").read_text()
                raylet = sorted(self._tmp.glob("session_*/logs/raylet.out"))
                if raylet:
                    text += "\nraylet: " + raylet[-1].read_text()[-600:]
                raise RuntimeError(f"the Ray head did not start: {text.strip()[-1200:]}")
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        """Stop the head and everything it started; kill (by pid) any process it left."""
        proc, self._proc = self._proc, None
        if proc is not None:
            sid = proc.pid
            if proc.poll() is None:
                os.killpg(sid, signal.SIGTERM)  # `ray start --block` stops its processes
                try:
                    proc.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    os.killpg(sid, signal.SIGKILL)
                    proc.wait(timeout=30)
            deadline = time.monotonic() + 15
            while _session_members(sid) and time.monotonic() < deadline:
                time.sleep(0.3)
            self.leftovers = _session_members(sid)
            for pid in self.leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> RayCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
