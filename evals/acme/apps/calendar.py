"""Radicale 3.9: CalDAV calendars stored as plain .ics files (it forks; stopped by group)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from evals.acme.apps.base import App, ProcSpec, ReadyCheck
from evals.acme.company import EMPLOYEES
from evals.acme.errors import MissingDependency


def collections(data: Path) -> Path:
    """Radicale's ``collection-root``: one folder per user, one per calendar inside."""
    return data / "storage" / "collection-root"


def calendar_dir(data: Path, user: str, calendar: str = "calendar") -> Path:
    """The folder of one user's calendar (one .ics file per event)."""
    return collections(data) / user / calendar


class Calendar(App):
    """Radicale without authentication; every employee has a ``calendar`` collection."""

    name = "calendar"
    port_names = ("http",)

    def check_dependencies(self) -> None:
        if not Path(sys.executable).with_name("radicale").exists():
            raise MissingDependency("radicale (the venv's `acme` extra)", "run `make venv`")

    def initialize(self, data: Path) -> None:
        for emp in EMPLOYEES:
            folder = calendar_dir(data, emp.user)
            folder.mkdir(parents=True, exist_ok=True)
            props = {"tag": "VCALENDAR", "D:displayname": f"{emp.name}"}
            (folder / ".Radicale.props").write_text(json.dumps(props))

    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        argv = [sys.executable, "-m", "radicale", "--config", ""]
        argv += ["--server-hosts", f"127.0.0.1:{ports['http']}", "--auth-type", "none"]
        argv += ["--storage-filesystem-folder", str(data / "storage")]
        argv += ["--rights-type", "authenticated", "--logging-level", "warning"]
        return [ProcSpec(name="radicale", argv=argv)]

    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        return [ReadyCheck(port=ports["http"], http_path="/.web/")]

    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        return {"calendar_url": f"http://127.0.0.1:{ports['http']}"}
