"""Sandbox probes: every attempt to leave the workspace is refused or handled harmlessly.

Each probe prepares the workspace (links, special files), makes one tool call and then
checks that the call was refused and that nothing outside the workspace changed.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tools import ToolContext, ToolRegistry

Setup = Callable[[Path, Path], None]


def _nothing(ws: Path, out: Path) -> None:
    pass


def _link_etc(ws: Path, out: Path) -> None:
    (ws / "etc").symlink_to("/etc")


def _link_secret(ws: Path, out: Path) -> None:
    (ws / "s.txt").symlink_to(out / "secret.txt")


def _link_parent(ws: Path, out: Path) -> None:
    (ws / "shared").symlink_to(out)


def _relative_link_out(ws: Path, out: Path) -> None:
    (ws / "up").symlink_to("../outside")


def _hard_link(ws: Path, out: Path) -> None:
    os.link(out / "secret.txt", ws / "hard.txt")


def _fifo(ws: Path, out: Path) -> None:
    os.mkfifo(ws / "pipe")


def _socket(ws: Path, out: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws / "sock"))
    sock.close()


def _dev_link(ws: Path, out: Path) -> None:
    (ws / "zero").symlink_to("/dev/zero")


def _char_device(ws: Path, out: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root")
    os.mknod(ws / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))


def _dir_with_hard_link(ws: Path, out: Path) -> None:
    (ws / "d").mkdir()
    os.link(out / "secret.txt", ws / "d" / "copy-me.txt")


def _loop(ws: Path, out: Path) -> None:
    (ws / "loop1").symlink_to("loop2")
    (ws / "loop2").symlink_to("loop1")


@dataclass
class Probe:
    name: str
    tool: str
    args: dict[str, Any]
    setup: Setup = _nothing
    message: str = ""
    extra_check: Callable[[Path, Path], None] | None = None
    refused: bool = True
    kwargs: dict[str, Any] = field(default_factory=dict)


def _secret_untouched(ws: Path, out: Path) -> None:
    assert (out / "secret.txt").read_text() == "TOP SECRET\n"
    assert sorted(os.listdir(out)) == ["secret.txt"]


PROBES = [
    Probe(
        "dotdot read",
        "file_read",
        {"path": "../outside/secret.txt"},
        message="outside the workspace",
    ),
    Probe("dotdot inside path", "file_read", {"path": "a/../../outside/secret.txt"}),
    Probe("dotdot write", "file_write", {"path": "../outside/new.txt", "content": "x"}),
    Probe("absolute /etc/passwd", "file_read", {"path": "/etc/passwd"}),
    Probe("absolute write /tmp", "file_write", {"path": "/tmp/jm-probe.txt", "content": "x"}),
    Probe("symlink to /etc", "file_read", {"path": "etc/passwd"}, _link_etc),
    Probe("symlink to /etc listed", "file_list", {"path": "etc"}, _link_etc),
    Probe("symlink file read", "file_read", {"path": "s.txt"}, _link_secret),
    Probe("symlink file write", "file_write", {"path": "s.txt", "content": "pwned"}, _link_secret),
    Probe(
        "symlink file append", "file_append", {"path": "s.txt", "content": "pwned"}, _link_secret
    ),
    Probe(
        "symlinked parent write",
        "file_write",
        {"path": "shared/new.txt", "content": "x"},
        _link_parent,
    ),
    Probe("symlinked parent read", "file_read", {"path": "shared/secret.txt"}, _link_parent),
    Probe("relative symlink out", "file_read", {"path": "up/secret.txt"}, _relative_link_out),
    Probe("hard link read", "file_read", {"path": "hard.txt"}, _hard_link, message="hard links"),
    Probe(
        "hard link edit", "file_edit", {"path": "hard.txt", "old": "TOP", "new": "NO"}, _hard_link
    ),
    Probe("hard link append", "file_append", {"path": "hard.txt", "content": "x"}, _hard_link),
    Probe(
        "hard link copied out of a folder",
        "file_copy",
        {"src": "d", "dst": "d2"},
        _dir_with_hard_link,
    ),
    Probe("tilde home", "file_read", {"path": "~/.bashrc"}, message="'~' is not expanded"),
    Probe("tilde user", "file_list", {"path": "~root"}),
    Probe("NUL byte", "file_read", {"path": "a.txt\x00../../etc/passwd"}, message="NUL"),
    Probe("very long name", "file_write", {"path": "n" * 300, "content": "x"}, message="longer"),
    Probe("very long path", "file_read", {"path": "a/" * 700 + "f"}, message="longer"),
    Probe(
        "FIFO read does not block",
        "file_read",
        {"path": "pipe"},
        _fifo,
        message="not a regular file",
    ),
    Probe("socket read", "file_read", {"path": "sock"}, _socket),
    Probe("symlink to /dev/zero", "file_read", {"path": "zero"}, _dev_link),
    Probe(
        "character device",
        "file_read",
        {"path": "null"},
        _char_device,
        message="not a regular file",
    ),
    Probe(
        "copy symlink target out", "file_copy", {"src": "s.txt", "dst": "copy.txt"}, _link_secret
    ),
    Probe("move into outside", "file_move", {"src": "a.txt", "dst": "../outside/a.txt"}),
    Probe("move outside file in", "file_move", {"src": "../outside/secret.txt", "dst": "x.txt"}),
    Probe("delete workspace root", "file_delete", {"path": ".", "recursive": True}),
    Probe("delete parent", "file_delete", {"path": "..", "recursive": True}),
    Probe(
        "delete through symlinked parent",
        "file_delete",
        {"path": "shared/secret.txt"},
        _link_parent,
    ),
    Probe("glob with dotdot", "file_find", {"pattern": "../outside/*"}),
    Probe("absolute glob", "file_find", {"pattern": "/etc/*"}),
    Probe("grep outside", "file_grep", {"pattern": "SECRET", "path": "../outside"}),
    Probe("list root of filesystem", "file_list", {"path": "/"}),
    Probe("shell cwd outside", "shell_run", {"command": "pwd", "cwd": ".."}),
    Probe("python script outside", "python_run", {"script": "../outside/secret.txt"}),
    Probe("pip option injection", "python_install", {"packages": ["--target=/tmp/x", "six"]}),
    Probe("symlink loop", "file_read", {"path": "loop1"}, _loop),
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
async def test_probe_is_refused(
    probe: Probe, registry: ToolRegistry, ctx: ToolContext, outside: Path
) -> None:
    ws = ctx.workspace
    (ws / "a.txt").write_text("hello\n")
    probe.setup(ws, outside)
    started = time.monotonic()
    res = await registry.call(probe.tool, probe.args, ctx)
    assert time.monotonic() - started < 10
    assert res.error, f"{probe.name}: not refused: {res.output[:300]}"
    assert probe.message in res.error
    assert "TOP SECRET" not in res.output
    _secret_untouched(ws, outside)
    assert not os.path.lexists("/tmp/jm-probe.txt")  # noqa: ASYNC240
    assert ws.exists() and (ws / "a.txt").read_text() == "hello\n"


async def test_probe_count() -> None:
    assert len(PROBES) >= 25


async def test_absolute_path_inside_workspace_is_fine(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    path = str(ctx.workspace / "abs.txt")
    assert (await registry.call("file_write", {"path": path, "content": "ok"}, ctx)).ok
    assert (await registry.call("file_read", {"path": path}, ctx)).output.endswith("ok")


async def test_symlink_inside_workspace_is_followed(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    (ctx.workspace / "real.txt").write_text("data\n")
    (ctx.workspace / "alias.txt").symlink_to("real.txt")
    res = await registry.call("file_read", {"path": "alias.txt"}, ctx)
    assert res.ok and res.output.endswith("data")


async def test_deleting_a_symlink_removes_only_the_link(
    registry: ToolRegistry, ctx: ToolContext, outside: Path
) -> None:
    _link_parent(ctx.workspace, outside)
    res = await registry.call("file_delete", {"path": "shared", "recursive": True}, ctx)
    assert res.ok, res.error
    assert not (ctx.workspace / "shared").exists()
    _secret_untouched(ctx.workspace, outside)


async def test_huge_sparse_file_is_not_read_whole(registry: ToolRegistry, ctx: ToolContext) -> None:
    ctx.settings.max_file_bytes = 5_000_000
    huge = ctx.workspace / "huge.log"
    with huge.open("wb") as fh:
        fh.write(b"first line\nsecond line\n" + b"more text\n" * 2000)
        fh.truncate(50 * 1024**3)  # 50 GiB, sparse
    started = time.monotonic()
    head = await registry.call("file_read", {"path": "huge.log", "end_line": 2}, ctx)
    assert head.output.splitlines()[1:] == ["first line", "second line"]
    whole = await registry.call("file_read", {"path": "huge.log"}, ctx)
    assert len(whole.output) <= ctx.settings.output_budget_chars
    grep = await registry.call("file_grep", {"pattern": "line"}, ctx)
    assert grep.ok and "0 file(s) searched" in grep.output
    edit = await registry.call("file_edit", {"path": "huge.log", "old": "first", "new": "x"}, ctx)
    assert edit.error and "limit" in edit.error
    copy = await registry.call("file_copy", {"src": "huge.log", "dst": "copy.log"}, ctx)
    assert copy.error and "limit" in copy.error
    assert time.monotonic() - started < 20
    sparse = ctx.workspace / "zeros.bin"
    with sparse.open("wb") as fh:
        fh.truncate(10 * 1024**3)
    res = await registry.call("file_read", {"path": "zeros.bin"}, ctx)
    assert res.error and "binary" in res.error


async def test_odd_but_harmless_names_stay_inside(registry: ToolRegistry, ctx: ToolContext) -> None:
    for name in ("%2e%2e/x.txt", "..\\x.txt", "a b/ü.txt", "-rf"):
        res = await registry.call("file_write", {"path": name, "content": "ok"}, ctx)
        assert res.ok, (name, res.error)
        assert ctx.sandbox.contains(Path(os.path.realpath(ctx.workspace / name)))  # noqa: ASYNC240
