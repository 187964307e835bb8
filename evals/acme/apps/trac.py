"""Trac 1.6: tickets, wiki, milestones and roadmap, served by ``tracd`` from SQLite."""

from __future__ import annotations

import configparser
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from evals.acme.apps.base import App, ProcSpec, ReadyCheck
from evals.acme.errors import AppStartError, MissingDependency
from evals.acme.paths import cache_dir, trac_pylib

TEMPLATE_VERSION = 2  # bump when the template below changes

COMPONENTS: tuple[tuple[str, str], ...] = (
    ("backend", "marco"),
    ("frontend", "sofia"),
    ("infrastructure", "sam"),
    ("qa", "kenji"),
    ("hr", "olivia"),
    ("finance", "rachel"),
)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def trac_env(data: Path) -> Path:
    """The Trac environment folder inside the app's data."""
    return data / "env"


def trac_db(data: Path) -> Path:
    """The SQLite database that holds tickets, wiki pages and milestones."""
    return trac_env(data) / "db" / "trac.db"


class Trac(App):
    """Trac with anonymous TRAC_ADMIN (the agent needs no login for it)."""

    name = "trac"
    port_names = ("http",)

    def _env(self) -> dict[str, str]:
        path = os.pathsep.join([str(trac_pylib()), os.environ.get("PYTHONPATH", "")])
        return {"PYTHONPATH": path.rstrip(os.pathsep)}

    def check_dependencies(self) -> None:
        if not Path(_bin("tracd")).exists():
            raise MissingDependency("tracd (Trac, the venv's `acme` extra)", "run `make venv`")
        if not (trac_pylib() / "pkg_resources").exists():
            raise MissingDependency("pkg_resources for Trac (setuptools<81)")

    def initialize(self, data: Path) -> None:
        template = self._template()
        shutil.copytree(template, trac_env(data), symlinks=True)

    def _template(self) -> Path:
        """A pristine Acme Trac environment, built once per machine (``initenv`` is slow)."""
        template = cache_dir() / f"trac-template-{TEMPLATE_VERSION}"
        if template.exists():
            return template
        cache_dir().mkdir(parents=True, exist_ok=True)
        with (cache_dir() / ".trac-template.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if template.exists():
                return template
            with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
                env = Path(tmp) / "env"
                run_env = {**os.environ, **self._env()}
                res = subprocess.run(
                    [_bin("trac-admin"), str(env), "initenv", "Acme Corp", "sqlite:db/trac.db"],
                    env=run_env,
                    capture_output=True,
                    text=True,
                )
                if res.returncode != 0:
                    raise AppStartError("trac", f"trac-admin initenv failed: {res.stderr[-300:]}")
                ini = configparser.RawConfigParser()
                ini.read(env / "conf" / "trac.ini")
                ini.set("trac", "default_date_format", "iso8601")
                ini.set("trac", "default_timezone", "UTC")
                ini.set("logging", "log_type", "none")
                ini.set("header_logo", "alt", "Acme Corp")
                ini.set("header_logo", "src", "")
                ini.set("header_logo", "link", "/")
                with (env / "conf" / "trac.ini").open("w") as out:
                    ini.write(out)
                with sqlite3.connect(env / "db" / "trac.db") as db:
                    db.execute("INSERT INTO permission VALUES ('anonymous', 'TRAC_ADMIN')")
                    for table in ("component", "milestone", "version"):
                        db.execute(f"DELETE FROM {table}")
                    db.executemany(
                        "INSERT INTO component (name, owner, description) VALUES (?, ?, '')",
                        COMPONENTS,
                    )
                env.rename(template)
        return template

    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        argv = [_bin("tracd"), "-s", "--port", str(ports["http"]), "-b", "127.0.0.1"]
        return [ProcSpec(name="tracd", argv=[*argv, str(trac_env(data))], env=self._env())]

    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        return [ReadyCheck(port=ports["http"], http_path="/")]

    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        return {"trac_url": f"http://127.0.0.1:{ports['http']}"}
