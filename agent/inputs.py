"""Look before you compute: the shape of the input files a goal names, read by code.

A small model that has not seen a table's header guesses its column names (``amount``
for ``revenue``), fails on the KeyError, and spends a dozen calls recovering. The first
observation of an attempt therefore shows each named input: for tables the header and
first rows (and the row count), for text the first lines. No model call is made.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from agent.evidence import FILE

TABLE = (".csv", ".tsv")
TEXT = (".txt", ".md", ".json", ".py", ".yaml", ".yml", ".xml", ".html", ".ics")
ROWS = 3
LINES = 5
LINE_CHARS = 200
READ_BYTES = 64_000


def input_files(goal: str, workspace: Path | None, outputs: set[str] | None = None) -> list[str]:
    """Workspace files the goal names that exist and that the run did not write."""
    if workspace is None:
        return []
    names = dict.fromkeys(m.group(1) for m in FILE.finditer(goal or ""))
    root = workspace.resolve()
    out = []
    for n in names:
        path = (workspace / n).resolve()
        if n not in (outputs or set()) and path.is_relative_to(root) and path.is_file():
            out.append(n)
    return out


def shape(path: Path) -> str:
    """A short description of one file: header and first rows, or first lines."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix not in TABLE + TEXT:
        return f"{size} bytes ({suffix.lstrip('.') or 'binary'}; read it with a tool)"
    with path.open("rb") as f:
        head = f.read(READ_BYTES).decode("utf-8", errors="replace")
    if suffix in TABLE:
        delimiter = "\t" if suffix == ".tsv" else ","
        rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))
        if not rows:
            return "empty"
        total = _count_lines(path) - 1 if size > READ_BYTES else len(rows) - 1
        sep = "\\t" if delimiter == "\t" else ","
        lines = [f"columns ({sep}-separated): {', '.join(rows[0])}"]
        lines += [delimiter.join(r)[:LINE_CHARS] for r in rows[1 : ROWS + 1]]
        lines.append(f"({total} data rows)")
        return "\n".join(lines)
    lines = head.splitlines()
    shown = [line[:LINE_CHARS] for line in lines[:LINES]]
    more = len(lines) - LINES if size <= READ_BYTES else None
    tail = f"\n(... {more} more lines)" if more and more > 0 else ""
    if more is None:
        tail = "\n(... more lines)"
    return "\n".join(shown) + tail if shown else "empty"


def header_names(workspace: Path | None, names: list[str]) -> list[str]:
    """The column names of the tables among ``names`` (first row of each)."""
    out: list[str] = []
    for name in names:
        if workspace is None or not name.lower().endswith(TABLE):
            continue
        with (workspace / name).open(encoding="utf-8", errors="replace") as f:
            first = f.readline()[:4000]
        delimiter = "\t" if name.lower().endswith(".tsv") else ","
        out += [c.strip() for row in csv.reader([first], delimiter=delimiter) for c in row]
    return out


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def input_shapes(goal: str, workspace: Path | None, outputs: set[str] | None = None) -> str:
    """The note that opens an attempt whose goal names input files ("" when it names none)."""
    parts = []
    for name in input_files(goal, workspace, outputs):
        assert workspace is not None
        parts.append(f"{name}:\n{shape(workspace / name)}")
    if not parts:
        return ""
    return (
        "The input files, as they are now (use these exact column names; compute with a "
        "tool that reads the file):\n" + "\n\n".join(parts)
    )
