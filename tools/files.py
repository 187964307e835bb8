"""File tools: read (text and office formats), write, edit, list, find, grep, move, copy, delete.

Every path goes through :class:`tools.sandbox.Sandbox` (and the checks of
``tools/_fileio.py``); the looking tools (list, find, grep) are in ``tools/file_search.py``.
Blocking work runs in a thread so the event loop (and a browser in it) stays responsive.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from pathlib import Path

from pydantic import BaseModel, Field

from tools import documents
from tools._fileio import (
    BINARY_SNIFF,
    atomic_write,
    check_size,
    existing_file,
    is_binary,
    read_bytes,
)
from tools.context import ToolContext
from tools.errors import ToolError
from tools.file_search import SEARCH_TOOLS
from tools.registry import Tool, tool
from tools.result import ToolResult
from tools.sandbox import Sandbox, open_nofollow, resolve_entry

_MAX_LINE_CHARS = 2000


# ---------------------------------------------------------------- argument models


class ReadArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace.")
    start_line: int = Field(default=1, ge=1, description="First line to return (1-based).")
    end_line: int | None = Field(
        default=None, ge=1, description="Last line to return (inclusive); default: as much as fits."
    )


class WriteArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace; folders are created.")
    content: str = Field(description="The complete new content of the file.")


class AppendArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace; created if missing.")
    content: str = Field(description="Text added at the end of the file.")


class EditArgs(BaseModel):
    path: str = Field(description="File path relative to the workspace.")
    old: str = Field(description="Exact text to replace, unique in the file unless replace_all.")
    new: str = Field(description="Replacement text.")
    replace_all: bool = Field(default=False, description="Replace every occurrence.")


class MoveArgs(BaseModel):
    src: str = Field(description="Existing file or folder.")
    dst: str = Field(description="New path (an existing folder receives the item).")
    overwrite: bool = Field(default=False, description="Replace an existing destination file.")


class DeleteArgs(BaseModel):
    path: str = Field(description="File or folder to delete.")
    recursive: bool = Field(default=False, description="Required to delete a non-empty folder.")


class TableArgs(BaseModel):
    path: str = Field(description="Output file ending in .xlsx, .csv or .tsv.")
    rows: list[list[str | int | float | bool | None]] = Field(description="Data rows.")
    header: list[str] | None = Field(default=None, description="Column names (first row).")
    sheet: str | None = Field(default=None, description="Sheet name for .xlsx.")


class DocxArgs(BaseModel):
    path: str = Field(description="Output file ending in .docx.")
    text: str = Field(
        description="Body: lines starting with '#' are headings, '- ' bullets, others paragraphs."
    )
    title: str | None = Field(default=None, description="Document title.")
    tables: list[list[list[str | int | float | None]]] = Field(
        default_factory=list, description="Tables appended after the text, each a list of rows."
    )


# ---------------------------------------------------------------- helpers


# ---------------------------------------------------------------- read


def _read_text_lines(real: Path, start: int, end: int | None, budget: int, limit: int) -> str:
    """Lines start..end of a text file, streaming, so a huge file is never read whole."""
    lines: list[str] = []
    used = 0
    scanned = 0
    number = 0
    stopped_at: int | None = None
    total_known = True
    fd = open_nofollow(real, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(BINARY_SNIFF)
        if is_binary(head):
            size = real.stat().st_size
            raise ToolError(f"binary file ({size} bytes); not shown as text")
        fh.seek(0)
        while True:
            raw = fh.readline(_MAX_LINE_CHARS * 4)
            if not raw:
                break
            scanned += len(raw)
            if scanned > limit:
                total_known = False
                stopped_at = number + 1
                break
            if not raw.endswith(b"\n"):
                rest = fh.readline(limit)  # skip the rest of an over-long line
                scanned += len(rest)
                if b"\x00" in raw:
                    raise ToolError("binary content; not shown as text")
                raw = raw + b" [... long line cut]\n" if rest else raw
            number += 1
            if number < start:
                continue
            if end is not None and number > end:
                total_known = False
                break
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if used + len(text) + 1 > budget and lines:
                stopped_at = number
                total_known = False
                break
            lines.append(text)
            used += len(text) + 1
    if start > number and not lines:
        if stopped_at is not None:
            raise ToolError(f"line {start} lies beyond the first {limit} bytes this tool reads")
        raise ToolError(f"the file has only {number} lines")
    last = start + len(lines) - 1
    span = f"lines {start}-{last}" + (f" of {number}" if total_known else "")
    note = ""
    if stopped_at is not None:
        note = f"\n[output budget reached: continue with start_line={stopped_at}]"
    return f"[{span}]\n" + "\n".join(lines) + note


def _slice_text(text: str, start: int, end: int | None, budget: int) -> str:
    all_lines = text.splitlines()
    total = len(all_lines)
    if start > max(total, 1):
        raise ToolError(f"the converted text has only {total} lines")
    chosen: list[str] = []
    used = 0
    stop = min(end or total, total)
    stopped_at = None
    for index in range(start - 1, stop):
        line = all_lines[index]
        if used + len(line) + 1 > budget and chosen:
            stopped_at = index + 1
            break
        chosen.append(line)
        used += len(line) + 1
    last = start + len(chosen) - 1
    note = f"\n[output budget reached: continue with start_line={stopped_at}]" if stopped_at else ""
    return f"[lines {start}-{last} of {total}]\n" + "\n".join(chosen) + note


@tool(name="file_read", group="files", read_only=True)
async def file_read(ctx: ToolContext, args: ReadArgs) -> ToolResult:
    """Read a file as text, optionally a line range. csv, xlsx, docx and pdf are converted to text."""
    real = existing_file(ctx.sandbox, args.path)
    if args.end_line is not None and args.end_line < args.start_line:
        raise ToolError("end_line is before start_line")
    budget = max(ctx.settings.output_budget_chars - 200, 100)
    if real.suffix.lower() in documents.TEXT_CONVERTED:
        check_size(real, ctx.settings.max_file_bytes, args.path)
        try:
            text = await asyncio.to_thread(documents.to_text, real)
        except Exception as exc:
            raise ToolError(f"cannot read {args.path!r} as {real.suffix}: {exc}") from exc
        body = _slice_text(text, args.start_line, args.end_line, budget)
    else:
        body = await asyncio.to_thread(
            _read_text_lines,
            real,
            args.start_line,
            args.end_line,
            budget,
            ctx.settings.max_file_bytes,
        )
    return ToolResult(output=f"{ctx.sandbox.rel(real)} {body}")


# ---------------------------------------------------------------- write, append, edit


@tool(name="file_write", group="files", read_only=False)
async def file_write(ctx: ToolContext, args: WriteArgs) -> ToolResult:
    """Create or overwrite a text file with the given content (written atomically)."""
    real = ctx.sandbox.resolve(args.path, allow_root=False)
    if real.is_dir():
        raise ToolError(f"{args.path!r} is a folder")
    data = args.content.encode("utf-8")
    if len(data) > ctx.settings.max_file_bytes:
        raise ToolError(f"content is over the {ctx.settings.max_file_bytes}-byte limit")
    await asyncio.to_thread(atomic_write, real, lambda tmp: tmp.write_bytes(data))
    return ToolResult(output=f"wrote {len(data)} bytes to {ctx.sandbox.rel(real)}")


@tool(name="file_append", group="files", read_only=False)
async def file_append(ctx: ToolContext, args: AppendArgs) -> ToolResult:
    """Append text to the end of a file (created if missing)."""
    real = ctx.sandbox.resolve(args.path, allow_root=False)
    if real.is_dir():
        raise ToolError(f"{args.path!r} is a folder")
    data = args.content.encode("utf-8")
    size = real.stat().st_size if real.exists() else 0
    if size + len(data) > ctx.settings.max_file_bytes:
        raise ToolError(f"the file would grow over the {ctx.settings.max_file_bytes}-byte limit")

    def append() -> None:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd = open_nofollow(real, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        with os.fdopen(fd, "ab") as fh:
            fh.write(data)

    await asyncio.to_thread(append)
    return ToolResult(output=f"appended {len(data)} bytes to {ctx.sandbox.rel(real)}")


@tool(name="file_edit", group="files", read_only=False)
async def file_edit(ctx: ToolContext, args: EditArgs) -> ToolResult:
    """Replace exact text in a file; the old text must occur exactly once unless replace_all."""
    real = existing_file(ctx.sandbox, args.path)
    if not args.old:
        raise ToolError("old must not be empty (use file_write or file_append)")
    raw = await asyncio.to_thread(read_bytes, real, ctx.settings.max_file_bytes)
    if is_binary(raw):
        raise ToolError("binary file; cannot edit as text")
    text = raw.decode("utf-8", "replace")
    count = text.count(args.old)
    if count == 0:
        hint = ""
        stripped = args.old.strip()
        if stripped and stripped in text:
            hint = " (it occurs with different surrounding whitespace)"
        raise ToolError(
            f"old text not found in {args.path!r}{hint}; read the file and copy it exactly"
        )
    if count > 1 and not args.replace_all:
        raise ToolError(
            f"old text occurs {count} times in {args.path!r}; add surrounding lines to make it "
            "unique, or set replace_all"
        )
    new_text = text.replace(args.old, args.new)
    data = new_text.encode("utf-8")
    await asyncio.to_thread(atomic_write, real, lambda tmp: tmp.write_bytes(data))
    return ToolResult(output=f"replaced {count} occurrence(s) in {ctx.sandbox.rel(real)}")


# ---------------------------------------------------------------- move, copy, delete


def _safe_copy_file(src: str, dst: str) -> str:
    st = os.lstat(src)
    if not stat.S_ISREG(st.st_mode):
        raise ToolError(f"{src} is not a regular file: refused")
    if st.st_nlink > 1:
        raise ToolError(f"{src} has several hard links and may alias a file outside: refused")
    return str(shutil.copy2(src, dst))


def _destination(sb: Sandbox, src: Path, dst_text: str, overwrite: bool) -> Path:
    dst = sb.resolve(dst_text, allow_root=True)
    if dst.is_dir():
        dst = dst / src.name
        sb.resolve(dst)
    if dst.exists() and not overwrite:
        raise ToolError(f"{sb.rel(dst)!r} exists; set overwrite to replace it")
    if dst.exists() and dst.is_dir():
        raise ToolError(f"{sb.rel(dst)!r} is an existing folder")
    if src.is_dir() and sb.contains(dst) and os.path.commonpath([src, dst]) == str(src):
        raise ToolError("cannot put a folder inside itself")
    return dst


@tool(name="file_move", group="files", read_only=False)
async def file_move(ctx: ToolContext, args: MoveArgs) -> ToolResult:
    """Move or rename a file or folder inside the workspace."""
    src = resolve_entry(ctx.sandbox, args.src)
    if not (src.is_symlink() or src.exists()):
        raise ToolError(f"{args.src!r} does not exist")
    dst = _destination(ctx.sandbox, src, args.dst, args.overwrite)
    dst.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(os.replace if not src.is_dir() else shutil.move, src, dst)
    return ToolResult(output=f"moved {ctx.sandbox.rel(src)} -> {ctx.sandbox.rel(dst)}")


@tool(name="file_copy", group="files", read_only=False)
async def file_copy(ctx: ToolContext, args: MoveArgs) -> ToolResult:
    """Copy a file or folder inside the workspace."""
    src = ctx.sandbox.resolve(args.src, allow_root=False)
    if not src.exists():
        raise ToolError(f"{args.src!r} does not exist")
    dst = _destination(ctx.sandbox, src, args.dst, args.overwrite)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        await asyncio.to_thread(
            shutil.copytree, src, dst, symlinks=True, copy_function=_safe_copy_file
        )
    else:
        check_size(src, ctx.settings.max_file_bytes, args.src)
        await asyncio.to_thread(_safe_copy_file, str(src), str(dst))
    return ToolResult(output=f"copied {ctx.sandbox.rel(src)} -> {ctx.sandbox.rel(dst)}")


@tool(name="file_delete", group="files", read_only=False)
async def file_delete(ctx: ToolContext, args: DeleteArgs) -> ToolResult:
    """Delete a file, a symlink, or (with recursive) a folder inside the workspace."""
    entry = resolve_entry(ctx.sandbox, args.path)
    if not (entry.is_symlink() or entry.exists()):
        raise ToolError(f"{args.path!r} does not exist")
    if entry.is_dir() and not entry.is_symlink():
        if any(entry.iterdir()) and not args.recursive:
            raise ToolError(f"{args.path!r} is a non-empty folder; set recursive to delete it")
        await asyncio.to_thread(shutil.rmtree, entry)
    else:
        entry.unlink()
    return ToolResult(output=f"deleted {ctx.sandbox.rel(entry)}")


# ---------------------------------------------------------------- deliverables


@tool(name="file_write_table", group="files", read_only=False)
async def file_write_table(ctx: ToolContext, args: TableArgs) -> ToolResult:
    """Write rows (and an optional header) as an .xlsx, .csv or .tsv file."""
    real = ctx.sandbox.resolve(args.path, allow_root=False)
    if real.suffix.lower() not in (".xlsx", ".csv", ".tsv"):
        raise ToolError("path must end in .xlsx, .csv or .tsv")
    count = 0

    def write(tmp: Path) -> None:
        nonlocal count
        count = documents.write_table(tmp, args.rows, args.header, args.sheet)

    await asyncio.to_thread(atomic_write, real, write)
    rel = ctx.sandbox.rel(real)
    return ToolResult(output=f"wrote {count} rows to {rel}", artifacts=[rel])


@tool(name="file_write_docx", group="files", read_only=False)
async def file_write_docx(ctx: ToolContext, args: DocxArgs) -> ToolResult:
    """Write a Word (.docx) document from text with '#' headings and '- ' bullets, plus tables."""
    real = ctx.sandbox.resolve(args.path, allow_root=False)
    if real.suffix.lower() != ".docx":
        raise ToolError("path must end in .docx")
    await asyncio.to_thread(
        atomic_write,
        real,
        lambda tmp: documents.write_docx(tmp, args.text, args.title, args.tables),
    )
    rel = ctx.sandbox.rel(real)
    return ToolResult(output=f"wrote {rel}", artifacts=[rel])


FILE_TOOLS: list[Tool] = [
    file_read,
    file_write,
    file_append,
    file_edit,
    *SEARCH_TOOLS,  # file_list, file_find, file_grep
    file_move,
    file_copy,
    file_delete,
    file_write_table,
    file_write_docx,
]
