"""What every Acme Corp app provides to the environment manager."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from pydantic import BaseModel, Field

from evals.acme.errors import MissingDependency


class ProcSpec(BaseModel):
    """One long-running process of an app, started in its own process group."""

    name: str
    argv: list[str]
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None


class ReadyCheck(BaseModel):
    """What to poll: a port until it accepts connections (and answers HTTP, if
    ``http_path``), or a file until it exists."""

    port: int | None = None
    http_path: str | None = None
    file: Path | None = None


class App(ABC):
    """An app of the company: how to build its first state, configure, start and find it.

    The app's stored state lives in ``data`` (snapshotted and restored by a reset); its
    configuration is rewritten into ``conf`` before every start, since ports may change.
    """

    name: str
    port_names: tuple[str, ...]
    programs: tuple[tuple[str, str], ...] = ()  # (program, Debian package)
    start_timeout_s: float = 15.0

    def check_dependencies(self) -> None:
        """Raise :class:`MissingDependency` naming the fix when a program is absent."""
        for program, package in self.programs:
            if shutil.which(program) is None and not Path(program).exists():
                raise MissingDependency(
                    f"{program} (Debian package {package}) needed by {self.name}",
                )

    def data_location(self, run_dir: Path) -> Path:
        """Where the app's stored state lives (default: ``<run_dir>/<name>``)."""
        return run_dir / self.name

    def after_restore(self, data: Path) -> None:  # noqa: B027
        """Fix up restored or seeded data before a start (default: nothing)."""

    def cleanup(self, conf: Path) -> None:  # noqa: B027
        """Remove what the app keeps outside the run folder (default: nothing)."""

    @abstractmethod
    def initialize(self, data: Path) -> None:
        """Create the app's base state (users, empty stores) in ``data``."""

    def configure(self, data: Path, conf: Path, ports: dict[str, int]) -> None:  # noqa: B027
        """Write configuration files for these ports (default: none needed)."""

    @abstractmethod
    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        """The processes to start, in order."""

    @abstractmethod
    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        """What must answer before the app counts as up."""

    @abstractmethod
    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        """Placeholders for task.md, e.g. ``{"trac_url": "http://127.0.0.1:8000"}``."""
