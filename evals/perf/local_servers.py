"""A throwaway PostgreSQL cluster and Chroma server on this machine, for benchmarks.

``initdb`` and ``pg_ctl`` (Debian's ``postgresql``, ``make postgres``) in a temporary folder,
as the ``postgres`` user under root (PostgreSQL refuses root); ``chroma run`` on a free
port. Both bind 127.0.0.1 and are stopped, their folders removed, on exit. The test
fixtures (tests/pg_cluster.py, tests/chroma_server.py) do the same for the test run.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server; yields a URL of a fresh database ``bench``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found: run `make postgres` first")
    bin_ = Path(found[-1]).parent
    user = "postgres" if os.geteuid() == 0 else None
    role = user or getpass.getuser()
    tmp = Path(tempfile.mkdtemp(prefix="jm-bench-pg-"))
    port = _free_port()
    data = tmp / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_ / args[0]), *args[1:]], user=user, capture_output=True, text=True, check=False
        )

    try:
        if user:
            shutil.chown(tmp, user)
        r = run("initdb", "-D", str(data), "-A", "trust", "-U", role, "-E", "UTF8")
        if r.returncode:
            raise SystemExit(f"initdb failed: {r.stderr[-300:]}")
        # durable settings as a deployment runs them (fsync on), on local disk
        opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp}"
        r = run("pg_ctl", "-D", str(data), "-l", str(tmp / "log"), "-o", opts, "-w", "start")
        if r.returncode:
            raise SystemExit(f"PostgreSQL did not start: {r.stderr[-300:]}")
        r = run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", role, "bench")
        if r.returncode:
            raise SystemExit(f"createdb failed: {r.stderr[-300:]}")
        yield f"postgresql://{role}@127.0.0.1:{port}/bench"
    finally:
        if data.exists():
            run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def chroma() -> Iterator[str]:
    """A Chroma server (``chroma run``); yields its URL."""
    exe = Path(sys.executable).parent / "chroma"
    tmp = Path(tempfile.mkdtemp(prefix="jm-bench-chroma-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp / "log").open("wb") as log:
        proc = subprocess.Popen(
            [str(exe) if exe.exists() else "chroma", "run", "--path", str(tmp / "data"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("chroma run did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
