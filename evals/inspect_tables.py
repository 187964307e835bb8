"""The display pieces of the memory inspection helpers: tables, times, short text, colours."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any

LEVEL_COLOURS = {
    "strategic": "#4c72b0",
    "procedural": "#55a868",
    "tool": "#c44e52",
    "episodic": "#8172b2",
    "skill": "#dd8452",
}


# ------------------------------------------------------------------------- tables
@dataclass
class Table:
    """A small table that renders as HTML in Jupyter and as aligned text anywhere else."""

    columns: list[str]
    rows: list[list[Any]]
    title: str = ""
    empty: str = "(none)"

    def cell(self, value: Any) -> str:
        """A value as table text."""
        if isinstance(value, float):
            return f"{value:.2f}"
        return "" if value is None else str(value)

    def __str__(self) -> str:
        texts = [[self.cell(v) for v in row] for row in self.rows]
        widths = [max([len(c), *(len(r[i]) for r in texts)]) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in texts
        ]
        if not self.rows:
            lines.append(self.empty)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(self.cell(v))}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        if not self.rows:
            body = f"<tr><td colspan='{len(self.columns)}'>{html.escape(self.empty)}</td></tr>"
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def when(ts: float | None) -> str:
    """A timestamp as local ``YYYY-MM-DD HH:MM:SS`` (empty for None)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def short(text: str, n: int = 60) -> str:
    """One line of at most ``n`` characters."""
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"
