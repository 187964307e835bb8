"""Real MCP servers for the tests: where they are installed, and the processes they leave.

``mcp-server-time`` comes from PyPI with the ``mcp`` extra; the filesystem server comes from
npm, installed once by ``make mcp-servers`` into ``~/.cache/journeyman/npm`` (a test never
lets npx download it). A missing server fails the test with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest

NPM_CACHE = Path(os.environ.get("JOURNEYMAN_NPM_CACHE", "~/.cache/journeyman/npm")).expanduser()


def time_server() -> str:
    """The ``mcp-server-time`` executable of this environment."""
    path = Path(sys.executable).parent / "mcp-server-time"
    if not path.is_file():
        found = shutil.which("mcp-server-time")
        if found is None:
            pytest.fail("mcp-server-time is missing: run `make setup` (pip install '.[mcp]')")
        return found
    return str(path)


def filesystem_server() -> str:
    """The npm ``@modelcontextprotocol/server-filesystem`` executable in the cache folder."""
    path = NPM_CACHE / "node_modules" / ".bin" / "mcp-server-filesystem"
    if not path.exists():
        pytest.fail(f"the MCP filesystem server is not in {NPM_CACHE}: run `make mcp-servers`")
    return str(path)


def children(pid: int | None = None) -> list[tuple[int, str]]:
    """Direct child processes of ``pid`` (default: this one) with their command lines."""
    pid = os.getpid() if pid is None else pid
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z" or int(fields[1]) != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue
        out.append((int(entry), cmd))
    return out


def kill_child(needle: str) -> int:
    """SIGKILL this process's child whose command line contains ``needle``; its pid."""
    matches = [pid for pid, cmd in children() if needle in cmd]
    assert len(matches) == 1, children()
    os.kill(matches[0], signal.SIGKILL)
    return matches[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
