"""Process groups: start, ready-check, stop and measure, also from another process."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from evals.acme.apps.base import ProcSpec, ReadyCheck


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something holds 127.0.0.1:port (connections lingering in TIME_WAIT after
    our own app stopped do not count: servers bind with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


OWNER_ENV = "JM_ACME_RUN"
"""Set in every app process to its run folder: :func:`strays` finds them by it."""


def spawn(spec: ProcSpec, log: Path, *, owner: Path | None = None) -> subprocess.Popen[bytes]:
    """Start one process as the leader of a new process group, output into ``log``;
    ``owner``: the run folder it belongs to (inherited by everything it starts)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **spec.env}
    if owner is not None:
        env[OWNER_ENV] = str(owner)
    with log.open("wb") as out:
        return subprocess.Popen(
            spec.argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=spec.cwd,
            start_new_session=True,
        )


def check_ready(check: ReadyCheck) -> bool:
    """One poll: the file exists, or the port accepts a connection and, for HTTP, answers
    below 500."""
    if check.file is not None:
        return check.file.exists()
    if check.port is None:
        return True
    try:
        with socket.create_connection(("127.0.0.1", check.port), timeout=0.5):
            pass
    except OSError:
        return False
    if check.http_path is None:
        return True
    conn = http.client.HTTPConnection("127.0.0.1", check.port, timeout=3)
    try:
        conn.request("GET", check.http_path)
        return conn.getresponse().status < 500
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def group_alive(pgid: int) -> bool:
    """Whether any process of the group exists (zombies of our own are reaped first)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(-pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(pid_pgid == pgid for _, pid_pgid in _processes())


def stop_group(pgid: int, *, grace_s: float = 5.0) -> None:
    """SIGTERM the whole group, then SIGKILL what is left after ``grace_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(0.05)


def _processes() -> list[tuple[int, int]]:
    """(pid, pgid) of every live, non-zombie process."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        out.append((int(entry.name), int(fields[2])))
    return out


def strays(owner: Path, known: set[int]) -> set[int]:
    """Process groups started for run folder ``owner`` and not among ``known``: what a run
    killed between starting an app and recording it left behind."""
    marker = f"{OWNER_ENV}={owner}".encode()
    found = set()
    for pid, pgid in _processes():
        if pgid in known or pid == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.add(pgid)
    return found


def group_rss_bytes(pgids: list[int]) -> int:
    """Resident memory of every process in these groups, summed."""
    wanted = set(pgids)
    total = 0
    for pid, pgid in _processes():
        if pgid not in wanted:
            continue
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total
