"""Confined execution: every tool that runs code runs it inside a bubblewrap sandbox.

``shell_run``, ``python_run`` and ``python_install`` hand their command line to
:func:`confine`, which wraps it in Debian's ``bwrap`` with:

- the system read-only (``--ro-bind / /``), a private ``/tmp``, a minimal ``/dev``;
- the workspace (and the agent's Python environment) the only writable places;
- the user's home, journeyman's own project folder and its virtual environment hidden
  under empty folders (the agent's interpreter is bound back read-only when it lives
  there, e.g. under ``~/.pyenv``), and ``/etc/shadow`` hidden;
- new user, PID, IPC, UTS and cgroup namespaces, a fresh ``/proc`` (the agent's own
  process and environment are not in it: ``/proc/$PPID/environ`` is the sandbox's init),
  ``--die-with-parent`` and ``--new-session``, all capabilities dropped;
- a new network namespace unless the policy is ``"host"`` (see below): inside it only
  its own loopback exists, so no address can be reached whatever the code sets;
- resource limits through ``prlimit`` (file size, address space, CPU seconds,
  ``RLIMIT_NPROC``) and, for the number of processes, a ``pids`` cgroup per call where
  one can be created (the kernel exempts root's user, to which a sandbox started by root
  maps, from ``RLIMIT_NPROC``); settings ``sandbox_*``.

When the command's first process exits, bwrap's init (PID 1 of the namespace) exits and
the kernel kills every process left in the namespace, ``setsid`` or not: nothing started
inside outlives the call. Killing bwrap on a timeout does the same.

Network policy: ``"none"`` (a network namespace of its own, only its own loopback),
``"allowlist"`` (that namespace plus the host's loopback services when ``allowed_hosts``
names the loopback, carried by :mod:`tools.netrelay`) or ``"host"`` (the host's network).
``shell_run``/``python_run`` use ``ToolSettings.sandbox_network`` (default ``"none"``);
``python_install`` uses the host network, since pip must reach the package index
(``offline`` installs get ``"none"``). A namespace is a mechanism the code inside cannot
step around; environment variables (a proxy setting) would be advice only.

Where bwrap is missing or cannot create namespaces, code-running tools refuse with one
line naming the fix, unless ``tools.sandbox = "none"`` is set on purpose.
:func:`probe` reports which mode is active (for ``journeyman doctor``).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tools.errors import ToolError
from tools.netrelay import FORWARDER, PROXY_PORT, SOCKET_IN_SANDBOX, Relay
from tools.settings import ToolSettings

Network = Literal["none", "allowlist", "index", "host"]

FIX_INSTALL = "install bubblewrap (`apt-get install bubblewrap`, or `make setup`)"
FIX_OPT_OUT = 'or set tools.sandbox = "none" to run code unconfined on purpose'
_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_SANDBOX_UID = 1000  # the user inside; it maps to the agent's own user outside


class SandboxStatus(BaseModel):
    """Whether code-running tools can run, and how (for ``journeyman doctor``)."""

    mode: Literal["bwrap", "none"]
    ok: bool
    detail: str
    fix: str | None = None
    process_limit: bool = False  # whether sandbox_max_processes is enforced here


class SandboxUnavailable(ToolError):
    """The sandbox cannot start and the user has not opted out of it."""


@functools.cache
def _bwrap_error(bwrap: str | None) -> str | None:
    """Why bwrap cannot start a sandbox here (None when it can); tried once per process."""
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run(
            [bwrap, *_NAMESPACES, "--ro-bind", "/", "/", "--proc", "/proc", "--", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be started: {exc}"
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return "bwrap cannot create its namespaces: " + (reason[-1] if reason else "unknown")
    return None


_NAMESPACES = ("--unshare-all", "--unshare-user", "--uid", str(_SANDBOX_UID), "--gid", "1000")


def probe(settings: ToolSettings | None = None) -> SandboxStatus:
    """The sandbox mode the code-running tools will use, and whether it works."""
    settings = settings or ToolSettings()
    if settings.sandbox == "none":
        return SandboxStatus(
            mode="none",
            ok=True,
            detail='code runs unconfined (tools.sandbox = "none" is set)',
        )
    error = _bwrap_error(shutil.which("bwrap"))
    if error is not None:
        return SandboxStatus(
            mode="bwrap", ok=False, detail=error, fix=f"{FIX_INSTALL}, {FIX_OPT_OUT}"
        )
    limit = "a pids cgroup" if _pids_root() is not None else "RLIMIT_NPROC (not for root)"
    return SandboxStatus(
        mode="bwrap",
        ok=True,
        detail=f"bubblewrap sandbox; network for shell/python: {settings.sandbox_network}; "
        f"process limit: {limit}",
        process_limit=_pids_root() is not None or os.geteuid() != 0,
    )


_PIDS_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
# per-call cgroups and when they were made: removed once empty and older than a call's
# start-up (so a group not joined yet is never taken away), or at exit
_spent: dict[Path, float] = {}
_SWEEP_AFTER_S = 30.0


@functools.cache
def _pids_root() -> Path | None:
    """A pids cgroup folder this process may create groups in (v1 or v2), else None.

    RLIMIT_NPROC does not bind a sandbox run by root (its user maps to root, whom the
    kernel exempts), so the process limit is a cgroup's ``pids.max`` where one can be made.
    """
    for root in _PIDS_ROOTS:
        if not (root / "cgroup.procs").exists():
            continue
        if root == _PIDS_ROOTS[1] and "pids" not in _read(root / "cgroup.subtree_control"):
            continue
        base = root / "journeyman"
        try:
            base.mkdir(exist_ok=True)
            probe_dir = base / f"probe-{os.getpid()}"
            probe_dir.mkdir(exist_ok=True)
            ok = (probe_dir / "pids.max").exists()
            probe_dir.rmdir()
        except OSError:
            continue
        if ok:
            atexit.register(_sweep, everything=True)
            return base
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _sweep(*, everything: bool = False) -> None:
    now = time.monotonic()
    for folder, made in list(_spent.items()):
        if everything or now - made > _SWEEP_AFTER_S:
            with contextlib.suppress(OSError):  # EBUSY: still in use
                folder.rmdir()
                del _spent[folder]


def _pids_group(limit: int) -> Path | None:
    """A fresh cgroup allowing ``limit`` processes, or None where none can be made."""
    base = _pids_root()
    if base is None:
        return None
    _sweep()
    group = base / uuid.uuid4().hex[:12]
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
    except OSError:
        return None
    _spent[group] = time.monotonic()
    return group


def _inside(path: Path, folder: Path) -> bool:
    try:
        return os.path.commonpath([path, folder]) == str(folder)
    except ValueError:
        return False


def _hidden(settings: ToolSettings) -> list[Path]:
    """Folders replaced by empty ones: home, journeyman's project and venv, and extras."""
    found = [Path.home(), _PROJECT_ROOT, Path(sys.prefix), *settings.sandbox_hide]
    out: list[Path] = []
    for path in found:
        real = Path(os.path.realpath(path))
        if real != Path("/") and real.is_dir() and real not in out:
            out.append(real)
    return out


def confine(
    argv: list[str],
    *,
    settings: ToolSettings,
    workspace: Path,
    cwd: Path,
    network: Network,
    writable: tuple[Path, ...] = (),
    readonly: tuple[Path, ...] = (),
    relay: Relay | None = None,
) -> list[str]:
    """``argv`` wrapped so that it runs in the sandbox; unchanged with ``sandbox = "none"``.

    Raises :class:`SandboxUnavailable` (one line naming the fix) when bwrap cannot start.
    """
    if settings.sandbox == "none":
        return argv
    bwrap = shutil.which("bwrap")
    error = _bwrap_error(bwrap)
    if error is not None or bwrap is None:
        raise SandboxUnavailable(
            f"code is run only in a sandbox and {error}: {FIX_INSTALL}, {FIX_OPT_OUT}"
        )
    prlimit = shutil.which("prlimit")
    workspace = Path(os.path.realpath(workspace))
    binds = [workspace, *(Path(os.path.realpath(p)) for p in writable)]
    cmd = [bwrap, *_NAMESPACES]
    if network == "host":
        cmd.append("--share-net")
    cmd += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    cmd += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for folder in _hidden(settings):
        if not any(_inside(folder, b) for b in binds):  # a workspace under it is bound again
            cmd += ["--tmpfs", str(folder)]
    for secret in ("/etc/shadow", "/etc/gshadow"):
        if os.path.exists(secret):
            cmd += ["--ro-bind", "/dev/null", secret]
    base = Path(os.path.realpath(sys.base_prefix))
    if base.is_dir():  # the interpreter the agent's venv links to (may live in ~/.pyenv)
        cmd += ["--ro-bind", str(base), str(base)]
    for folder in readonly:
        if folder.exists():
            cmd += ["--ro-bind", str(folder), str(folder)]
    for folder in binds:
        if folder.is_dir():
            cmd += ["--bind", str(folder), str(folder)]
    if relay is not None:  # the allowlist's loopback services, through the relay's socket
        cmd += ["--ro-bind", str(relay.folder), str(Path(SOCKET_IN_SANDBOX).parent)]
        python = getattr(sys, "_base_executable", None) or sys.executable
        argv = [python, "-I", "-S", "-c", FORWARDER, SOCKET_IN_SANDBOX, relay.items(), "--", *argv]
        if relay.proxy:  # pip finds the index proxy through these; nothing else gets out
            url = f"http://127.0.0.1:{PROXY_PORT}"
            for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
                cmd += ["--setenv", name, url]
            for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
                cmd += ["--unsetenv", name]
    cmd += ["--chdir", str(cwd), "--"]
    if prlimit is not None:
        cmd = [
            prlimit,
            f"--nproc={settings.sandbox_max_processes}",
            f"--fsize={settings.sandbox_max_file_bytes}",
            f"--as={settings.sandbox_memory_bytes}",
            f"--cpu={settings.sandbox_cpu_s}",
            "--",
            *cmd,
        ]
    group = _pids_group(settings.sandbox_max_processes)
    if group is not None:  # join the group before bwrap starts, so all of it counts
        join = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        cmd = ["/bin/sh", "-c", join, str(group), *cmd]
    return [*cmd, *argv]
