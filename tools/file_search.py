"""File tools that look without changing anything: list a folder, find by glob, grep."""

from __future__ import annotations

import asyncio
import os
import re
import stat
from pathlib import Path

from pydantic import BaseModel, Field

from tools._fileio import (
    HIDDEN_NAMES,
    check_pattern,
    existing_dir,
    glob_regex,
    human_size,
    is_binary,
    walk,
)
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import Tool, tool
from tools.result import ToolResult
from tools.sandbox import Sandbox, open_nofollow


class ListArgs(BaseModel):
    path: str = Field(default=".", description="Folder to list, relative to the workspace.")
    depth: int = Field(default=2, ge=1, le=8, description="How many folder levels to show.")


class FindArgs(BaseModel):
    pattern: str = Field(
        description="Glob such as '*.csv', 'reports/**/*.xlsx'; without '/' it matches file names."
    )
    path: str = Field(default=".", description="Folder to search in.")


class GrepArgs(BaseModel):
    pattern: str = Field(description="Python regular expression searched line by line.")
    path: str = Field(default=".", description="File or folder to search.")
    glob: str | None = Field(
        default=None, description="Only files matching this glob, e.g. '*.py'."
    )
    ignore_case: bool = Field(default=False, description="Match regardless of case.")
    max_matches: int | None = Field(default=None, ge=1, description="Stop after this many matches.")


def _tree(sb: Sandbox, root: Path, depth: int, cap: int) -> tuple[list[str], int]:
    lines: list[str] = []
    omitted = 0

    def visit(folder: Path, level: int, indent: str) -> None:
        nonlocal omitted
        try:
            entries = sorted(os.scandir(folder), key=lambda e: (not _is_dir(e), e.name))
        except OSError as exc:
            lines.append(f"{indent}[cannot list: {exc.strerror}]")
            return
        for entry in entries:
            if entry.name in HIDDEN_NAMES:
                continue
            if len(lines) >= cap:
                omitted += 1
                continue
            if entry.is_symlink():
                target = os.readlink(entry.path)
                inside = sb.contains(Path(os.path.realpath(entry.path)))
                where = "" if inside else " (outside the workspace: refused)"
                lines.append(f"{indent}{entry.name} -> {target}{where}")
            elif entry.is_dir(follow_symlinks=False):
                lines.append(f"{indent}{entry.name}/")
                if level < depth:
                    visit(Path(entry.path), level + 1, indent + "  ")
            else:
                st = entry.stat(follow_symlinks=False)
                kind = "" if stat.S_ISREG(st.st_mode) else " (special file)"
                lines.append(f"{indent}{entry.name}  {human_size(st.st_size)}{kind}")

    visit(root, 1, "")
    return lines, omitted


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


@tool(name="file_list", group="files", read_only=True)
async def file_list(ctx: ToolContext, args: ListArgs) -> ToolResult:
    """List a folder as a tree with file sizes."""
    real = existing_dir(ctx.sandbox, args.path)
    lines, omitted = await asyncio.to_thread(
        _tree, ctx.sandbox, real, args.depth, ctx.settings.list_max_entries
    )
    head = f"{ctx.sandbox.rel(real)}/"
    body = "\n".join(lines) if lines else "(empty)"
    tail = f"\n[{omitted} more entries not shown]" if omitted else ""
    return ToolResult(output=f"{head}\n{body}{tail}")


def _find(sb: Sandbox, root: Path, pattern: str, cap: int) -> tuple[list[str], int]:
    regex = glob_regex(pattern)
    by_name = "/" not in pattern
    found: list[str] = []
    extra = 0
    for folder, dirs, files in walk(root):
        for name in dirs + files:
            path = folder / name
            rel = os.path.relpath(path, root)
            if regex.match(name if by_name else rel):
                if len(found) >= cap:
                    extra += 1
                    continue
                suffix = "/" if name in dirs else ""
                found.append(sb.rel(path) + suffix)
    return found, extra


@tool(name="file_find", group="files", read_only=True)
async def file_find(ctx: ToolContext, args: FindArgs) -> ToolResult:
    """Find files and folders by glob pattern."""
    check_pattern(args.pattern)
    root = existing_dir(ctx.sandbox, args.path)
    found, extra = await asyncio.to_thread(
        _find, ctx.sandbox, root, args.pattern, ctx.settings.list_max_entries
    )
    if not found:
        return ToolResult(output=f"no match for {args.pattern!r} under {ctx.sandbox.rel(root)}")
    more = f"\n[{extra} more matches not shown]" if extra else ""
    return ToolResult(output="\n".join(found) + more, data=found)


def _grep(
    sb: Sandbox, root: Path, regex: re.Pattern[str], glob: str | None, cap: int, limit: int
) -> tuple[list[str], int, int]:
    name_regex = glob_regex(glob) if glob else None
    files: list[Path]
    if root.is_file():
        files = [root]
    else:
        files = [
            folder / name
            for folder, _dirs, names in walk(root)
            for name in names
            if name_regex is None or name_regex.match(name)
        ]
    matches: list[str] = []
    scanned = 0
    more = 0
    for path in files:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or st.st_size > limit:
            continue
        try:
            fd = open_nofollow(path, os.O_RDONLY)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(limit)
        if is_binary(data):
            continue
        scanned += 1
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if regex.search(line):
                if len(matches) >= cap:
                    more += 1
                    continue
                shown = line if len(line) <= 300 else line[:300] + " [...]"
                matches.append(f"{sb.rel(path)}:{number}: {shown}")
    return matches, scanned, more


@tool(name="file_grep", group="files", read_only=True)
async def file_grep(ctx: ToolContext, args: GrepArgs) -> ToolResult:
    """Search files for a regular expression; prints path:line: text for each match."""
    if args.glob:
        check_pattern(args.glob)
    try:
        regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
    except re.error as exc:
        raise ToolError(f"invalid regular expression: {exc}") from exc
    root = ctx.sandbox.resolve(args.path)
    if not root.exists():
        raise ToolError(f"{args.path!r} does not exist")
    cap = min(args.max_matches or ctx.settings.grep_max_matches, ctx.settings.grep_max_matches)
    matches, scanned, more = await asyncio.to_thread(
        _grep, ctx.sandbox, root, regex, args.glob, cap, ctx.settings.max_file_bytes
    )
    summary = f"[{len(matches) + more} match(es) in {scanned} file(s) searched]"
    if more:
        summary += f" [{more} not shown; narrow the pattern or path]"
    return ToolResult(output="\n".join([*matches, summary]), data=matches)


SEARCH_TOOLS: list[Tool] = [file_list, file_find, file_grep]
