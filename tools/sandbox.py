"""Path confinement: every path a tool touches resolves inside the workspace.

The checks, in order: no NUL bytes, no over-long names, no ``~`` (it is never
expanded), then the path is joined to the workspace and resolved with
:func:`os.path.realpath` (which follows ``..`` and every symlink, including a symlinked
parent folder) and must still lie under the workspace's own real path. Existing
targets must be regular files or folders: devices, FIFOs and sockets are refused, and
so are regular files with more than one hard link, because a hard link can alias a file
outside the workspace and no path check can tell.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tools.errors import SandboxViolation

MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255


class Sandbox:
    """Resolves model-supplied paths against one workspace root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))

    def resolve(self, path: str | Path, *, allow_root: bool = True) -> Path:
        """The real absolute path of ``path`` inside the workspace, or SandboxViolation."""
        text = os.fspath(path)
        if "\x00" in text:
            raise SandboxViolation("path contains a NUL byte")
        if len(text) > MAX_PATH_CHARS:
            raise SandboxViolation(f"path longer than {MAX_PATH_CHARS} characters")
        text = text.strip() or "."
        if text.startswith("~"):
            raise SandboxViolation("'~' is not expanded: paths are relative to the workspace root")
        for part in Path(text).parts:
            if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
                raise SandboxViolation(f"a path component is longer than {MAX_NAME_BYTES} bytes")
        joined = Path(text) if os.path.isabs(text) else self.root / text
        real = Path(os.path.realpath(joined))
        if not self.contains(real):
            raise SandboxViolation(
                f"{text!r} resolves outside the workspace; use paths inside it (relative paths "
                "are relative to the workspace root)"
            )
        if not allow_root and real == self.root:
            raise SandboxViolation("this operation is not allowed on the workspace root itself")
        self._check_kind(real, text)
        return real

    def contains(self, real: Path) -> bool:
        """True when the already-resolved ``real`` is the root or below it."""
        try:
            return os.path.commonpath([self.root, real]) == str(self.root)
        except ValueError:
            return False

    def rel(self, real: Path) -> str:
        """The workspace-relative form of a resolved path, for messages to the model."""
        rel = os.path.relpath(real, self.root)
        return "." if rel == "." else rel

    def _check_kind(self, real: Path, shown: str) -> None:
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SandboxViolation(f"cannot inspect {shown!r}: {exc.strerror}") from exc
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return
        if not stat.S_ISREG(mode):
            raise SandboxViolation(
                f"{shown!r} is not a regular file or folder (device, FIFO or socket): refused"
            )
        if st.st_nlink > 1:
            raise SandboxViolation(
                f"{shown!r} has {st.st_nlink} hard links and may alias a file outside the "
                "workspace: refused"
            )


def open_nofollow(real: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that refuses a symlink swapped in after the path was checked."""
    return os.open(real, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)


def resolve_entry(sandbox: Sandbox, path: str | Path) -> Path:
    """Like :meth:`Sandbox.resolve` but the last component is not followed.

    For operations on the directory entry itself (delete, move): a symlink is then
    removed or renamed as a link, never its target, and a hard link or FIFO can be
    removed without being read.
    """
    text = os.fspath(path).strip()
    while text.endswith("/") and len(text) > 1:
        text = text[:-1]
    parent_text, _, name = text.rpartition("/")
    if name in ("", ".", "..") or text.startswith("~") or "\x00" in text:
        return sandbox.resolve(text, allow_root=False)
    parent = sandbox.resolve(parent_text or ("/" if text.startswith("/") else "."))
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise SandboxViolation(f"a path component is longer than {MAX_NAME_BYTES} bytes")
    entry = parent / name
    if entry == sandbox.root:
        raise SandboxViolation("this operation is not allowed on the workspace root itself")
    return entry
