"""Safe file access inside the workspace, shared by the file tools.

Path checks beyond :class:`tools.sandbox.Sandbox` (the target exists and is a file or a
folder), size caps, reads that never follow a symlink, atomic writes, and the walking and
glob matching that skips the tools' own hidden folders. No tool is defined here.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools.errors import SandboxViolation, ToolError
from tools.sandbox import Sandbox, open_nofollow

HIDDEN_NAMES = frozenset({".jm-venv", ".jm-run", "__pycache__", ".git"})
BINARY_SNIFF = 8192


def existing_file(sb: Sandbox, path: str) -> Path:
    """The real path of an existing file inside the workspace, or a ToolError saying what is there."""
    real = sb.resolve(path)
    if not real.exists():
        raise ToolError(f"{path!r} does not exist (use file_list or file_find to look)")
    if real.is_dir():
        raise ToolError(f"{path!r} is a folder; use file_list")
    return real


def existing_dir(sb: Sandbox, path: str) -> Path:
    """The real path of an existing folder inside the workspace, or a ToolError."""
    real = sb.resolve(path)
    if not real.is_dir():
        raise ToolError(f"{path!r} is not an existing folder")
    return real


def check_size(real: Path, limit: int, shown: str) -> int:
    """The file's size, or a ToolError when it is over ``limit`` bytes."""
    size = real.stat().st_size
    if size > limit:
        raise ToolError(f"{shown!r} is {size} bytes, over the {limit}-byte limit of this tool")
    return size


def read_bytes(real: Path, limit: int) -> bytes:
    """The file's bytes, opened without following a symlink, up to ``limit`` (else ToolError)."""
    fd = open_nofollow(real, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ToolError(f"file is over the {limit}-byte limit")
    return data


def atomic_write(real: Path, write: Callable[[Path], Any]) -> None:
    """Write through a temp file in the same folder, then ``os.replace`` it into place."""
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{real.name[:40]}.", suffix=real.suffix, dir=real.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if real.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(real.stat().st_mode))
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def is_binary(chunk: bytes) -> bool:
    """Whether the start of a file looks binary (a NUL byte)."""
    return b"\x00" in chunk[:BINARY_SNIFF]


def walk(root: Path) -> Iterator[tuple[Path, list[str], list[str]]]:
    """os.walk without following symlinks, skipping hidden tool folders."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in HIDDEN_NAMES)
        yield Path(folder), dirs, sorted(files)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob (``*``, ``?``, ``[...]``, ``**/``) as a regular expression over relative paths."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def check_pattern(pattern: str) -> None:
    """Refuse a glob that is absolute or climbs out with ``..``."""
    if "\x00" in pattern or pattern.startswith(("/", "~")) or ".." in pattern.split("/"):
        raise SandboxViolation("glob patterns must be relative and must not contain '..'")


def human_size(size: int) -> str:
    """A byte count as ``12 B``, ``3.4 KB``, ``1.2 MB``..."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
