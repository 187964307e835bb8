"""The environment manager: bring Acme Corp's apps up, down, reset them, report status.

Each app runs as one or more process groups bound to 127.0.0.1, with its stored state in
a run folder. The first ``up`` builds each app's base state and keeps a snapshot of it;
``reset`` stops the app, copies the snapshot back, applies an optional seed, and starts
it again on the same ports. The state (ports, process groups, URLs) is recorded in
``<run_dir>/state.json`` so that ``status`` and ``down`` work from another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from evals.acme import _process
from evals.acme.apps.base import App
from evals.acme.apps.calendar import Calendar
from evals.acme.apps.chat import Chat
from evals.acme.apps.files import Files
from evals.acme.apps.mail import Mail
from evals.acme.apps.trac import Trac
from evals.acme.errors import AppStartError, PortInUse, UnknownApp
from evals.acme.paths import default_run_dir

# The network the sandboxed shell/python tools get in a task with apps: the apps listen on
# 127.0.0.1 ports of the host, which the sandbox reaches through tools.netrelay (the
# allowlist's loopback services only; no other address).
APP_NETWORK: Literal["none", "allowlist", "host"] = "allowlist"

APP_CLASSES: dict[str, type[App]] = {
    "trac": Trac,
    "files": Files,
    "calendar": Calendar,
    "mail": Mail,
    "chat": Chat,
}
ALL_APPS: tuple[str, ...] = tuple(APP_CLASSES)

Seeder = Callable[[str, Path], None]
"""Called as ``seeder(app_name, data_dir)`` while the app is stopped, after a restore."""


class AppState(BaseModel):
    """What is recorded about one app of a run folder."""

    data: Path
    ports: dict[str, int]
    urls: dict[str, str] = Field(default_factory=dict)
    pgids: list[int] = Field(default_factory=list)
    started_at: float | None = None
    start_s: float | None = None


class EnvState(BaseModel):
    """The JSON file ``state.json`` of a run folder."""

    run_dir: Path
    apps: dict[str, AppState] = Field(default_factory=dict)


class AppStatus(BaseModel):
    """``status()`` of one app."""

    name: str
    running: bool
    urls: dict[str, str]
    ports: dict[str, int]
    rss_bytes: int
    data: Path


def resolve_apps(apps: Sequence[str] | None) -> list[str]:
    """Validate app names (None or empty means all), keeping the canonical order."""
    if not apps:
        return list(ALL_APPS)
    unknown = sorted(set(apps) - set(ALL_APPS))
    if unknown:
        raise UnknownApp(f"unknown app(s) {', '.join(unknown)}: choose from {', '.join(ALL_APPS)}")
    return [name for name in ALL_APPS if name in apps]


class Environment:
    """Acme Corp in one run folder. Safe to use from several processes (a file lock)."""

    def __init__(
        self,
        run_dir: Path | None = None,
        *,
        ports: dict[str, dict[str, int]] | None = None,
        start_timeout_s: float = 20.0,
    ):
        self.run_dir = (run_dir or default_run_dir()).expanduser().resolve()
        self.fixed_ports = ports or {}
        self.start_timeout_s = start_timeout_s
        self._apps = {name: cls() for name, cls in APP_CLASSES.items()}
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # -- paths and state -------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        """``<run_dir>/state.json``."""
        return self.run_dir / "state.json"

    def _snapshot(self, name: str) -> Path:
        return self.run_dir / "snapshots" / name

    def _conf(self, name: str) -> Path:
        return self.run_dir / "conf" / name

    def _log(self, name: str, proc: str) -> Path:
        return self.run_dir / "logs" / f"{name}-{proc}.log"

    def load_state(self) -> EnvState:
        """The recorded state (empty when the run folder has none)."""
        if self.state_file.exists():
            return EnvState.model_validate_json(self.state_file.read_text())
        return EnvState(run_dir=self.run_dir)

    def _save_state(self, state: EnvState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=2))
        tmp.replace(self.state_file)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[EnvState]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.load_state()
            try:
                yield state
            finally:
                self._save_state(state)
                fcntl.flock(lock, fcntl.LOCK_UN)

    def data_dir(self, name: str) -> Path:
        """Where app ``name`` keeps its stored state (what graders read)."""
        state = self.load_state()
        if name in state.apps:
            return state.apps[name].data
        return self._apps[name].data_location(self.run_dir)

    def urls(self) -> dict[str, str]:
        """Placeholders for task.md of every recorded app (``trac_url``, ``files_url``...)."""
        out: dict[str, str] = {}
        for app in self.load_state().apps.values():
            out.update(app.urls)
        return out

    # -- lifecycle -------------------------------------------------------------------
    def up(self, apps: Sequence[str] | None = None) -> EnvState:
        """Start these apps (all by default) unless they are running; return the state."""
        names = resolve_apps(apps)
        with self._locked() as state:
            todo = [n for n in names if not self._running(state, n)]
            for name in todo:
                self._apps[name].check_dependencies()
            for name in todo:
                self._prepare_data(state, name, seed=None, restore=False)
            self._start(state, todo)
            return state.model_copy(deep=True)

    def reset(self, apps: Sequence[str] | None = None, *, seed: Seeder | None = None) -> EnvState:
        """Stop these apps, restore their snapshots, apply ``seed``, start them again."""
        names = resolve_apps(apps)
        with self._locked() as state:
            for name in names:
                self._apps[name].check_dependencies()
            for name in names:
                self._stop(state, name)
                self._prepare_data(state, name, seed=seed, restore=True)
            self._start(state, names)
            return state.model_copy(deep=True)

    def down(self, apps: Sequence[str] | None = None) -> list[str]:
        """Stop these apps (all by default); return the names that were running."""
        names = resolve_apps(apps)
        stopped = []
        with self._locked() as state:
            for name in names:
                if self._running(state, name):
                    stopped.append(name)
                self._stop(state, name)
            if apps is None:
                self._stop_strays(state)
        return stopped

    def purge(self) -> None:
        """Stop everything and delete the run folder and any app data kept outside it."""
        self.down()
        for name in ALL_APPS:
            self._apps[name].cleanup(self._conf(name))
            data = self._apps[name].data_location(self.run_dir)
            if not data.is_relative_to(self.run_dir):
                shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def status(self) -> list[AppStatus]:
        """Every recorded app: running or not, URLs, ports, resident memory."""
        state = self.load_state()
        out = []
        for name, app in state.apps.items():
            running = self._running(state, name)
            out.append(
                AppStatus(
                    name=name,
                    running=running,
                    urls=app.urls,
                    ports=app.ports,
                    rss_bytes=_process.group_rss_bytes(app.pgids) if running else 0,
                    data=app.data,
                )
            )
        return out

    def rss_bytes(self) -> int:
        """Resident memory of all running apps' process groups together."""
        state = self.load_state()
        return _process.group_rss_bytes([pg for a in state.apps.values() for pg in a.pgids])

    # -- internals -------------------------------------------------------------------
    def _running(self, state: EnvState, name: str) -> bool:
        app = state.apps.get(name)
        return bool(app and app.pgids and all(_process.group_alive(pg) for pg in app.pgids))

    def _stop(self, state: EnvState, name: str) -> None:
        app = state.apps.get(name)
        if app is None:
            return
        for pgid in reversed(app.pgids):
            _process.stop_group(pgid)
            child = self._children.pop(pgid, None)
            if child is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=1)
        app.pgids = []
        app.started_at = None

    def _prepare_data(
        self, state: EnvState, name: str, *, seed: Seeder | None, restore: bool
    ) -> None:
        app = self._apps[name]
        data = app.data_location(self.run_dir)
        snap = self._snapshot(name)
        if not snap.exists():
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True)
            app.initialize(data)
            tmp = snap.with_name(snap.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(data, tmp, symlinks=True)
            tmp.replace(snap)
        elif restore or not data.exists():
            shutil.rmtree(data, ignore_errors=True)
            shutil.copytree(snap, data, symlinks=True)
        if seed is not None:
            seed(name, data)
        app.after_restore(data)
        prev = state.apps.get(name)
        state.apps[name] = AppState(data=data, ports=prev.ports if prev else {})

    def _choose_ports(self, state: EnvState, name: str, taken: set[int]) -> dict[str, int]:
        app = self._apps[name]
        fixed = self.fixed_ports.get(name, {})
        previous = state.apps[name].ports
        ports: dict[str, int] = {}
        for pname in app.port_names:
            if pname in fixed:
                port = fixed[pname]
                if _process.port_in_use(port):
                    raise PortInUse(name, port)
            elif (
                pname in previous
                and previous[pname] not in taken
                and not _process.port_in_use(previous[pname])
            ):
                port = previous[pname]
            else:
                port = _process.free_port()
                while port in taken:
                    port = _process.free_port()
            taken.add(port)
            ports[pname] = port
        return ports

    def _start(self, state: EnvState, names: list[str]) -> None:
        """Spawn every app's processes, then wait for all their ready checks together."""
        self._stop_strays(state)
        t0 = time.monotonic()
        taken = {p for a in state.apps.values() if a.pgids for p in a.ports.values()}
        pending: dict[str, list] = {}
        try:
            for name in names:
                app = self._apps[name]
                record = state.apps[name]
                record.ports = self._choose_ports(state, name, taken)
                app.configure(record.data, self._conf(name), record.ports)
                for spec in app.processes(record.data, self._conf(name), record.ports):
                    proc = _process.spawn(spec, self._log(name, spec.name), owner=self.run_dir)
                    self._children[proc.pid] = proc
                    record.pgids.append(proc.pid)
                    # on disk before any wait: `down` finds it even if this process is killed
                    self._save_state(state)
                record.urls = app.urls(record.ports)
                record.started_at = time.time()
                pending[name] = app.ready_checks(record.data, record.ports)
            deadline = t0 + self.start_timeout_s
            while pending:
                for name in list(pending):
                    self._fail_if_exited(state, name)
                    pending[name] = [c for c in pending[name] if not _process.check_ready(c)]
                    if not pending[name]:
                        del pending[name]
                        state.apps[name].start_s = round(time.monotonic() - t0, 3)
                if pending and time.monotonic() > deadline:
                    name = next(iter(pending))
                    ports = ", ".join(str(c.port) for c in pending[name])
                    raise AppStartError(
                        name,
                        f"no answer on port(s) {ports} within {self.start_timeout_s:.0f} s",
                        str(self.run_dir / "logs"),
                    )
                time.sleep(0.05)
        except BaseException:
            for name in names:
                self._stop(state, name)
            raise

    def _stop_strays(self, state: EnvState) -> None:
        """Stop app processes of this run folder that no record holds (a run SIGKILLed
        between starting one and writing it down): they would hold ports and data."""
        known = {pg for a in state.apps.values() for pg in a.pgids}
        for pgid in _process.strays(self.run_dir, known):
            _process.stop_group(pgid)

    def _fail_if_exited(self, state: EnvState, name: str) -> None:
        for pgid in state.apps[name].pgids:
            child = self._children.get(pgid)
            if child is not None and child.poll() is not None:
                logs = sorted((self.run_dir / "logs").glob(f"{name}-*.log"))
                raise AppStartError(
                    name,
                    f"a process exited with code {child.returncode}: {_tail(logs)}",
                    str(self.run_dir / "logs"),
                )


def _tail(logs: list[Path], chars: int = 400) -> str:
    text = " | ".join(
        p.name + ": " + p.read_text(errors="replace").strip()[-chars:] for p in logs if p.exists()
    )
    return text.replace("\n", " ")[-chars * 2 :] or "no output"


def dump_state(state: EnvState) -> str:
    """The state as indented JSON (for the CLI)."""
    return json.dumps(json.loads(state.model_dump_json()), indent=2)
