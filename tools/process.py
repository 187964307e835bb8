"""Subprocesses for the shell and Python tools: own process group, timeout, caps, clean env.

Each command runs in a new session (``start_new_session``) so that on timeout the whole
process group, children and grandchildren included, is killed with SIGKILL. Processes
still alive in the group when the command itself exits (``cmd &``) are killed as well.
Confined commands (:mod:`tools.confine`) run in a PID namespace, so a process that moved
itself into another session (``setsid``) dies with the namespace too; unconfined
(``tools.sandbox = "none"``) it escapes, but the call still returns at once: the pipes
such a process holds are closed, not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SECRET_MARKERS = (
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "PRIVATE",
    "COOKIE",
)
SECRET_PREFIXES = ("OPENAI_", "ANTHROPIC_", "JOURNEYMAN_", "AWS_", "AZURE_", "GOOGLE_")
_DROP = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def is_secret_name(name: str) -> bool:
    """Whether an environment variable name looks like it carries a credential."""
    upper = name.upper()
    return any(m in upper for m in SECRET_MARKERS) or upper.startswith(SECRET_PREFIXES)


def clean_env(base: Mapping[str, str] | None = None, *, venv: Path | None = None) -> dict[str, str]:
    """A copy of the environment without secrets and without journeyman's own venv.

    With ``venv`` the agent's virtual environment comes first on PATH instead.
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not is_secret_name(k) and k not in _DROP}
    own_bin = os.path.join(sys.prefix, "bin") if sys.prefix != sys.base_prefix else None
    parts = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p != own_bin]
    if venv is not None:
        parts.insert(0, str(venv / "bin"))
        env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join(parts)
    env.update({"PAGER": "cat", "GIT_PAGER": "cat", "TERM": "dumb", "NO_COLOR": "1"})
    env.setdefault("LANG", "C.UTF-8")
    return env


class _Capture:
    """Keeps the first and last bytes of a stream and counts what was dropped between."""

    def __init__(self, cap: int) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.cap = cap
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            keep = self.cap // 4
            if len(self.tail) > keep:
                self.dropped += len(self.tail) - keep
                del self.tail[: len(self.tail) - keep]

    def text(self) -> str:
        body = self.head.decode("utf-8", "replace")
        if self.dropped:
            body += f"\n[... {self.dropped} bytes of output cut ...]\n"
        body += self.tail.decode("utf-8", "replace")
        return _ANSI.sub("", body)


@dataclass
class ProcessOutcome:
    """What a finished (or killed) subprocess produced."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    leftovers_killed: bool
    seconds: float
    cut_bytes: int

    def last_line(self, most: int = 200) -> str:
        """The last line the process wrote to stderr (a traceback's exception, a shell's
        "command not found"; after a progress meter's carriage returns, what it wrote last),
        cut to ``most`` characters; "" when it wrote none (stdout is results, not errors)."""
        lines = [ln.rsplit("\r", 1)[-1].strip() for ln in self.stderr.splitlines()]
        lines = [ln for ln in lines if ln]
        return lines[-1][:most] if lines else ""

    def render(self, shown_command: str) -> str:
        """A compact transcript for the model."""
        if self.timed_out:
            status = "timed out; the command and all its child processes were killed"
        else:
            status = f"exit code {self.returncode}"
        lines = [f"$ {shown_command}", f"[{status}, {self.seconds:.1f} s]"]
        if self.stdout.strip():
            lines.append(self.stdout.rstrip("\n"))
        if self.stderr.strip():
            lines += ["[stderr]", self.stderr.rstrip("\n")]
        if not self.stdout.strip() and not self.stderr.strip():
            lines.append("(no output)")
        if self.leftovers_killed:
            lines.append("[background processes left running were stopped]")
        return "\n".join(lines)


async def _pump(stream: asyncio.StreamReader | None, capture: _Capture) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        capture.add(chunk)


def _kill_group(pgid: int) -> bool:
    """SIGKILL every process of the group; True when there was one."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    cap_bytes: int,
) -> ProcessOutcome:
    """Run ``argv`` with no stdin in its own process group; kill the group on timeout."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    out, err = _Capture(cap_bytes), _Capture(cap_bytes)
    pumps = [
        asyncio.create_task(_pump(proc.stdout, out)),
        asyncio.create_task(_pump(proc.stderr, err)),
    ]
    timed_out = False
    try:
        # Poll the exit status: ``proc.wait()`` also waits for the pipes to close, which
        # never happens while a background child (``cmd &``) holds them open.
        deadline = started + timeout_s
        while proc.returncode is None:
            if time.monotonic() >= deadline:
                timed_out = True
                _kill_group(proc.pid)
                break
            await asyncio.sleep(0.02)
    except BaseException:
        _kill_group(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        for task in pumps:
            task.cancel()
        raise
    leftovers = _kill_group(proc.pid) and not timed_out
    reaped_by = time.monotonic() + 0.5
    while proc.returncode is None and time.monotonic() < reaped_by:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    # Whatever still holds the pipes (a process that left the group in unconfined mode) is
    # not waited for: the pumps get a moment to drain, then the pipes are closed.
    _done, pending = await asyncio.wait(pumps, timeout=0.3)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=0.2)
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()
    return ProcessOutcome(
        returncode=proc.returncode,
        stdout=out.text(),
        stderr=err.text(),
        timed_out=timed_out,
        leftovers_killed=leftovers,
        seconds=time.monotonic() - started,
        cut_bytes=out.dropped + err.dropped,
    )


_SKIP_DIRS = {".git", ".jm-venv", ".jm-run", "node_modules", "__pycache__", ".venv"}
WRITTEN_MARK = "[files written: "  # starts the line naming what a command wrote (see below)


def snapshot_files(root: Path, limit: int = 5000) -> dict[str, tuple[int, int]] | None:
    """(mtime, size) of the files under ``root``, for :func:`files_written`; None when the
    tree has more than ``limit`` files (too big to compare cheaply)."""
    seen: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            path = os.path.join(folder, name)
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                continue
            seen[os.path.relpath(path, root)] = (st.st_mtime_ns, st.st_size)
            if len(seen) > limit:
                return None
    return seen


def files_written(
    before: dict[str, tuple[int, int]] | None,
    root: Path,
    most: int = 8,
    *,
    preview: int = 2,
    preview_chars: int = 240,
) -> str | None:
    """The files a command created or changed, and the start of the first few text files
    among them (evidence for the model and the reflector when the command printed nothing:
    a small model that sees no result re-runs the command or types the file itself), or None.
    """
    after = snapshot_files(root) if before is not None else None
    if before is None or after is None:
        return None
    changed = [(p, sz) for p, (mt, sz) in sorted(after.items()) if before.get(p, (-1, -1))[0] != mt]
    if not changed:
        return None
    shown = ", ".join(f"{p} ({sz} bytes)" for p, sz in changed[:most])
    more = f" and {len(changed) - most} more" if len(changed) > most else ""
    lines = [f"{WRITTEN_MARK}{shown}{more}]"]
    for path, size in changed:
        if preview <= 0:
            break
        if not 0 < size <= 1 << 20:
            continue
        try:
            head = read_head(root, path, preview_chars + 1).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary, gone again, or not a plain file of the workspace
        cut = " ..." if len(head) > preview_chars or size > preview_chars + 1 else ""
        lines.append(f"[{path} now begins:]\n{head[:preview_chars].rstrip()}{cut}")
        preview -= 1
    return "\n".join(lines)


def read_head(root: Path, rel: str, size: int) -> bytes:
    """The first ``size`` bytes of a workspace file, opened only as the file tools would:
    no symlink followed (in any component), no FIFO, device or socket (opened non-blocking
    and checked before reading), no hard link, nothing outside ``root``."""
    root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(root / rel))
    if real != root / rel or os.path.commonpath([root, real]) != str(root):
        raise OSError("a link, or outside the workspace")
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            raise OSError("not a plain file")
        return os.read(fd, size)
    finally:
        os.close(fd)


async def with_files_written(
    output: str, before: dict[str, tuple[int, int]] | None, root: Path
) -> str:
    """``output`` followed by what :func:`files_written` says of the files under ``root``."""
    written = await asyncio.to_thread(files_written, before, root)
    return f"{output}\n{written}" if written else output
