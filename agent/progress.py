"""No-progress detection: the same call returning the same thing, again and again.

The repeat guard of the executor only catches a repeated *failing* action; a small model
can also call ``browser_read`` a dozen times on a page it does not understand. Two
identical read-only observations in a row are a loop; at the third the executor is told
so, with the concrete next moves (the interactive elements it has not used yet); at the
fourth the attempt ends, as a failed one. The same changing action (a write, a click) with
the same result is a redo: told at the third, ended at the fourth, and judged on what it
did. Pure logic over the attempt's records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from agent.state import Record, ToolStep

WARN_AT = 3
END_AT = 4
LOOP = "No progress: you called"
LOOP_END = "No progress: the same read returned the same result"
REDO = "Done already: you ran"
REDO_END = "Done already: the same action gave the same result"
_ELEMENT = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
MAX_MOVES = 8


def _key(step: ToolStep) -> tuple[str, str, str]:
    return step.tool, json.dumps(step.arguments, sort_keys=True), step.observation()


def repeats(records: list[Record], read_only: Callable[[str], bool] | None = None) -> int:
    """How many times in a row the last tool action was the same call with the same
    arguments and the same observation (with ``read_only``: 0 unless it is a read)."""
    steps = [r for r in records if isinstance(r, ToolStep) and r.executed]
    if not steps or (read_only is not None and not read_only(steps[-1].tool)):
        return 0
    last = _key(steps[-1])
    n = 0
    for s in reversed(steps):
        if _key(s) != last:
            break
        n += 1
    return n


def unused_elements(records: list[Record]) -> list[str]:
    """Interactive elements of the last observation that lists them, minus those acted on."""
    used = {
        r.arguments.get("element_id")
        for r in records
        if isinstance(r, ToolStep) and "element_id" in r.arguments
    }
    for r in reversed(records):
        if isinstance(r, ToolStep) and _ELEMENT.search(r.output):
            return [
                f"[{m.group(1)}] {m.group(2)}"
                for m in _ELEMENT.finditer(r.output)
                if int(m.group(1)) not in used
            ]
    return []


def loop_note(records: list[Record], read_only: Callable[[str], bool]) -> tuple[str, bool] | None:
    """The note for the executor when the attempt loops, and whether it ends the attempt."""
    n = repeats(records, read_only)
    if n == 0:
        return _redo_note(records)
    if n >= END_AT:
        return f"{LOOP_END} {n} times; this attempt ends.", True
    if n < WARN_AT:
        return None
    last = next(r for r in reversed(records) if isinstance(r, ToolStep))
    moves = unused_elements(records)[:MAX_MOVES]
    if moves:
        nxt = (
            "Act on the page instead: browser_click, browser_type, browser_select or "
            "browser_check one of the elements not used yet:\n" + "\n".join(moves)
        )
    else:
        nxt = "Use another tool or other arguments, or answer with what you have."
    return f"{LOOP} {last.tool} {n} times with the same result. {nxt}", False


def _redo_note(records: list[Record]) -> tuple[str, bool] | None:
    """The same changing action (a write, a click) with the same arguments and the same
    result, again and again: it is done (the 1.5B model wrote one file eleven times in a
    row). At the third time the executor is told to move on; at the fourth the attempt
    ends and is judged on what it did (unlike a read loop, it may well have succeeded)."""
    n = repeats(records)
    if n >= END_AT:
        return f"{REDO_END} {n} times in a row; this attempt ends and is judged.", True
    if n < WARN_AT:
        return None
    last = next(r for r in reversed(records) if isinstance(r, ToolStep))
    return (
        f"{REDO} {last.tool} {n} times with the same arguments and the same result: it is done. "
        "Give your final answer now, or do the next thing the goal asks.",
        False,
    )
