"""Paths as results may record them: never the folders of the machine they were made on.

A path inside the repository is written relative to it; any other absolute path only by its
last part. :func:`scrub` does the same to every absolute path in a text (a command line).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository root: paths under it are written relative to it."""


def portable(path: str | Path, root: Path = REPO, *, base: Path | None = None) -> str:
    """A path as results may record it: relative to ``base`` (a results folder) or else to
    the repository when inside it, else only its last part."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        return p.as_posix()
    if base is not None and p.resolve().is_relative_to(Path(base).resolve()):
        return p.resolve().relative_to(Path(base).resolve()).as_posix()
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.name


_ABSOLUTE = re.compile(r"(?<![\w.~:/-])(/[^\s'\"`<>]+)")


def scrub(text: str, root: Path = REPO) -> str:
    """Free text (a command line, notes) with every absolute path written by
    :func:`portable`: relative to the repository, or only its last part."""
    return _ABSOLUTE.sub(lambda m: portable(m.group(1), root), text)


def code_version(root: Path = REPO) -> str | None:
    """The commit of the code in ``root``, with ``+changes`` when a tracked file outside
    ``evals/results`` differs from it; None when ``root`` is no git checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if not head:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!evals/results")
    return head + ("+changes" if changed else "")


NOT_RUN = ("evals/results", "tests", "docs", "README.md")
"""Paths a benchmark run does not execute: results, tests and prose."""


def same_code(recorded: str, current: str, root: Path = REPO) -> bool:
    """Whether two recorded codes (:func:`code_version`) run the same program: equal, or two
    clean commits whose trees differ only in :data:`NOT_RUN` (a run's partial results
    committed to carry it to another machine, a test or a README fixed meanwhile)."""
    if recorded == current:
        return True
    if recorded.endswith("+changes") or current.endswith("+changes"):
        return False
    diff = ["diff", "--quiet", recorded, current, "--", ".", *(f":!{p}" for p in NOT_RUN)]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *diff],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0  # 1: the code differs; 128: a commit this checkout lacks
