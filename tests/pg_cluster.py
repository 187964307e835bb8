"""A real, throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a server on
127.0.0.1 and a free port, stopped (and its folder removed) on exit.

PostgreSQL refuses to run as root, so under root (CI runs as root) the cluster belongs to
the ``postgres`` user that Debian's package creates. The binaries come from Debian's
``postgresql`` package (``make postgres`` installs it); without them the fixture fails with
that instruction rather than skipping, since the tests that use it cover a shipped backend.

    with PgCluster() as pg:
        url = pg.url  # postgresql://postgres@127.0.0.1:PORT/postgres
        pg.create_database("store_a")  # -> its URL
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

_RUN_AS = "postgres"


def pg_bin_dir() -> Path:
    """The folder of initdb/pg_ctl (newest installed major version), or a clear error."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    on_path = shutil.which("initdb")
    if found:
        return Path(found[-1]).parent
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found (initdb): run `make postgres` "
        "(apt-get install postgresql) first"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One PostgreSQL server in a temporary folder (see the module docstring)."""

    def __init__(self) -> None:
        self.bin = pg_bin_dir()
        self.port = _free_port()
        self._tmp = Path(tempfile.mkdtemp(prefix="jm-pg-"))
        self.data = self._tmp / "data"
        self._user = _RUN_AS if os.geteuid() == 0 else None
        self.url = f"postgresql://{self._role}@127.0.0.1:{self.port}/postgres"

    @property
    def _role(self) -> str:
        import getpass

        return _RUN_AS if self._user else getpass.getuser()

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self._user, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    def start(self) -> PgCluster:
        """initdb, then start the server and wait until it accepts connections."""
        if self._user:
            shutil.chown(self._tmp, self._user)
        r = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self._role, "-E", "UTF8")
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()[-400:]}")
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self._tmp} -c fsync=off -c max_connections=100"
        )
        log = self._tmp / "server.log"
        r = self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", opts, "-w", "start")
        if r.returncode:
            text = log.read_text() if log.exists() else r.stderr
            raise RuntimeError(f"PostgreSQL did not start: {text.strip()[-400:]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port)).returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError("PostgreSQL started but never became ready")

    def create_database(self, name: str) -> str:
        """A new, empty database in this cluster; returns its URL."""
        r = self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self._role, name)
        if r.returncode:
            raise RuntimeError(f"createdb {name} failed: {r.stderr.strip()}")
        return f"postgresql://{self._role}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
