"""WsgiDAV 4.4: the company file share (a read-only listing in a browser, WebDAV to write)."""

from __future__ import annotations

import sys
from pathlib import Path

from evals.acme.apps.base import App, ProcSpec, ReadyCheck
from evals.acme.errors import MissingDependency


def share_root(data: Path) -> Path:
    """The folder the share serves."""
    return data / "share"


class Files(App):
    """WsgiDAV on one folder, anonymous read and write."""

    name = "files"
    port_names = ("http",)

    def check_dependencies(self) -> None:
        if not Path(sys.executable).with_name("wsgidav").exists():
            raise MissingDependency("wsgidav (the venv's `acme` extra)", "run `make venv`")

    def initialize(self, data: Path) -> None:
        for folder in ("Engineering", "Finance", "HR", "Operations", "Shared"):
            (share_root(data) / folder).mkdir(parents=True, exist_ok=True)

    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        argv = [str(Path(sys.executable).with_name("wsgidav"))]
        argv += [
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["http"]),
            "--root",
            str(share_root(data)),
        ]
        argv += ["--auth", "anonymous", "--server", "cheroot", "-q"]
        return [ProcSpec(name="wsgidav", argv=argv)]

    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        return [ReadyCheck(port=ports["http"], http_path="/")]

    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        return {"files_url": f"http://127.0.0.1:{ports['http']}"}
