"""A real, throwaway Ray cluster for tests: ``ray start --head --block`` on 127.0.0.1 and
free ports, in its own session and temporary folder, stopped at the end with no process
left behind (the ones that linger are killed by pid and reported).

    with RayCluster(num_cpus=2) as ray_head:
        ray_head.address  # "127.0.0.1:PORT", for `journeyman bench run ... --ray ADDRESS`

Its workers import journeyman from this checkout (``PYTHONPATH``), as every node of a real
cluster runs the same checkout and virtualenv (docs/DEPLOY.md).
"""

from __future__ import annotations

import contextlib
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
GRACE_S = 8.0
"""How long the head's processes get to exit on SIGTERM (Ray's own stop takes ~35 s here)."""


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


def _members(sid: int, tmp: Path) -> list[int]:
    """Pids of the live processes of the cluster: those in session ``sid`` (the head and what
    it started) and any other that names the cluster's folder on its command line."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[0] == "Z":
            continue
        if int(fields[3]) == sid or str(tmp).encode() in argv:  # field 6 of stat: session
            pids.append(int(entry.name))
    return pids


def _wait_empty(sid: int, tmp: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _members(sid, tmp) and time.monotonic() < deadline:
        time.sleep(0.2)


class RayCluster:
    """One Ray head with ``num_cpus`` worker slots (see the module docstring)."""

    def __init__(self, num_cpus: int = 2) -> None:
        self.num_cpus = num_cpus
        self.port, *self._ports = _free_ports(4)
        self.address = f"127.0.0.1:{self.port}"
        self._tmp = Path(tempfile.mkdtemp(prefix="jm-ray-"))
        self._proc: subprocess.Popen[str] | None = None
        self.leftovers: list[int] = []

    def start(self, timeout_s: float = 180.0, attempts: int = 3) -> RayCluster:
        """Start the head and wait until it says it runs. ``ray start`` gives its raylet a
        fixed 30 s to register, which two cores under a full test run can miss: then the
        half-started head is stopped and started again on fresh ports."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout_s)
            except RuntimeError:
                if attempt == attempts:
                    raise
                self.stop()
                self.port, *self._ports = _free_ports(4)
                self.address = f"127.0.0.1:{self.port}"
                self._tmp = Path(tempfile.mkdtemp(prefix="jm-ray-"))
        raise AssertionError("unreachable")

    def _start_once(self, timeout_s: float) -> RayCluster:
        ray = Path(sys.executable).with_name("ray")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        # a loopback-only cluster without token auth (a token in ~/.ray would switch it on
        # for the head but not for drivers that do not set RAY_AUTH_MODE)
        env |= {
            "PYTHONPATH": str(ROOT),
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "disabled",
            # its Python agents start slowly on two busy cores: give them time
            "RAY_agent_register_timeout_ms": "180000",
            "RAY_raylet_start_wait_time_s": "180",
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
                text = (self._tmp / "head.log").read_text()[-600:]
                for raylet in self._tmp.glob("session_*/logs/raylet.out"):
                    fatal = [ln for ln in raylet.read_text().splitlines() if " C " in ln]
                    text += "\nraylet: " + "\n".join(fatal)[-600:]
                raise RuntimeError(f"the Ray head did not start: {text.strip()}")
            time.sleep(0.3)
        return self

    def stop(self) -> None:
        """Stop the head and everything it started: SIGTERM to its process group, then
        SIGKILL (by pid) to whatever of its session is still there after a grace period.
        ``leftovers``: what survived even that (a bug: the fixture reports it)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            sid = proc.pid
            with contextlib.suppress(ProcessLookupError):
                os.killpg(sid, signal.SIGTERM)
            _wait_empty(sid, self._tmp, GRACE_S)
            for pid in _members(sid, self._tmp):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            _wait_empty(sid, self._tmp, 10)
            self.leftovers = _members(sid, self._tmp)
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
