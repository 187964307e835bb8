"""File names in a goal: the pattern, the example commands a task quotes, and the outputs
it asks to write in the workspace (no other agent module is imported here: the evidence
rules, the input notes and the skill binder all read goals through it)."""

from __future__ import annotations

import re
from pathlib import Path

FILE = re.compile(
    r"(?<![\w/.:-])([\w][\w./-]*\.(?:csv|tsv|txt|md|json|xlsx|xls|docx|pdf|html|py|yaml|yml|xml|ics))\b",
    re.IGNORECASE,
)

_EXAMPLE_SPAN = re.compile(r"`[^`\n]*(?:://|\w@[\w.-]+:)[^`\n]*`")


def without_examples(goal: str) -> str:
    """The goal without the example commands it quotes."""
    return _EXAMPLE_SPAN.sub(" ", goal)


_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")
_WRITE = re.compile(
    r"(?i)\b(?:write|save|put|store|export|create|produce|output)(?:s|ing)?\b|\binto\b"
)
_ELSEWHERE = re.compile(r"(?i)\b(?:upload|webdav|attach|e-?mail|mail|send)")
_TO_FILE = frozenset(
    "write writes save saves put puts store stores export exports create creates produce "
    "produces output into as to".split()
)


def unwritten_outputs(goal: str, outputs: set[str], workspace: Path) -> list[str]:
    """Files a goal asks to write in the workspace that do not exist and no action wrote:
    a bare file name (no folder) right after a writing verb or "into/as/to" ("write
    `a.csv`", "put the sums into `b.csv`", "save them as c.csv"), in a sentence that does
    not send it elsewhere (an upload, a mail) and outside example commands. A file named
    after "from", "of" or "in" is read, not written."""
    out: list[str] = []
    for sentence in _SENTENCE.split(without_examples(goal)):
        if not _WRITE.search(sentence) or _ELSEWHERE.search(sentence):
            continue
        for m in FILE.finditer(sentence):
            name = m.group(1)
            before = re.findall(r"[A-Za-z]+", sentence[: m.start()])[-3:]
            if not _TO_FILE & {w.lower() for w in before}:
                continue
            if "/" not in name and name not in outputs and not (workspace / name).exists():
                out.append(name)
    return list(dict.fromkeys(out))


# The header a goal states for the table it asks for ("columns a,b", "header `a,b`", "(a,b)").
_NAMES = r"[A-Za-z_][\w-]*(?:\s*,\s*[A-Za-z_][\w-]*)+"
HEADER_SPEC = re.compile(
    r"(?i)\b(?:columns?|headers?|header row|fields)\b\W{0,6}(?:are\W{1,3}|of\W{1,3})?[`'\"]?("
    + _NAMES
    + r")\b|\(("
    + _NAMES
    + r")\)"
)
TABLES = (".csv", ".tsv")


def stated_header(goal: str) -> list[str] | None:
    """The header a goal spells out for its table (None when it states none, or several
    different ones)."""
    found = {
        tuple(c.strip() for c in (m.group(1) or m.group(2)).split(","))
        for m in HEADER_SPEC.finditer(goal)
        if not re.match(r"\s*,?\s*(?:and|or|&)\b", goal[m.end() :], re.IGNORECASE)
    }  # "a, b and c" is a list in prose, not a header
    return list(found.pop()) if len(found) == 1 else None


__all__ = [
    "FILE",
    "HEADER_SPEC",
    "TABLES",
    "stated_header",
    "unwritten_outputs",
    "without_examples",
]
