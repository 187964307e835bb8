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
- resource limits through ``prlimit``: processes (``RLIMIT_NPROC``, counted per user
  namespace, so only the sandbox's own processes count), file size, address space and CPU
  seconds (settings ``sandbox_*``).

When the command's first process exits, bwrap's init (PID 1 of the namespace) exits and
the kernel kills every process left in the namespace, ``setsid`` or not: nothing started
inside outlives the call. Killing bwrap on a timeout does the same.

Network policy: ``"none"`` (a network namespace of its own) or ``"host"`` (the host's
network). ``shell_run``/``python_run`` use ``ToolSettings.sandbox_network`` (default
``"none"``); ``python_install`` uses the host network, since pip must reach the package
index (``offline`` installs get ``"none"``). A namespace is a mechanism the code inside
cannot step around; environment variables (a proxy setting) would be advice only.

Where bwrap is missing or cannot create namespaces, code-running tools refuse with one
line naming the fix, unless ``tools.sandbox = "none"`` is set on purpose.
:func:`probe` reports which mode is active (for ``journeyman doctor``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from tools.errors import ToolError
from tools.settings import ToolSettings

Network = Literal["none", "host"]

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
    return SandboxStatus(
        mode="bwrap",
        ok=True,
        detail=f"bubblewrap sandbox; network for shell/python: {settings.sandbox_network}",
    )


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
    return [*cmd, *argv]
