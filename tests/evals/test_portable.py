"""The code a run records, and when a resumed run counts as the same code."""

from __future__ import annotations

import subprocess
from pathlib import Path

from evals.portable import code_version, same_code


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _commit(root: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)
    return _git(root, "rev-parse", "HEAD")


def test_partial_results_committed_on_top_are_the_same_code(tmp_path: Path) -> None:
    """A curve's state committed to carry it to the next machine, or a test or README
    fixed meanwhile, leave the program alone: the resumed run is the same code. A change to code is not, nor is
    a commit the checkout lacks, nor uncommitted changes."""
    _git(tmp_path, "init", "-q")
    ran = _commit(tmp_path, {"agent/a.py": "x = 1\n"}, "code")
    assert code_version(tmp_path) == ran
    carried = _commit(tmp_path, {"evals/results/curve/state.txt": "pass 2\n"}, "state")
    carried = _commit(tmp_path, {"tests/test_a.py": "", "README.md": "# a\n"}, "prose")
    assert same_code(ran, carried, tmp_path) and same_code(ran, ran, tmp_path)
    changed = _commit(tmp_path, {"agent/a.py": "x = 2\n"}, "code again")
    assert not same_code(ran, changed, tmp_path)
    assert not same_code(ran, "0" * 40, tmp_path)
    (tmp_path / "agent/a.py").write_text("x = 3\n")
    assert code_version(tmp_path) == changed + "+changes"
    assert not same_code(changed + "+changes", changed, tmp_path)
    (tmp_path / "evals/results/curve/state.txt").write_text("pass 3\n")
    _git(tmp_path, "checkout", "-q", "--", "agent/a.py")
    assert code_version(tmp_path) == changed  # results being written are no change of code
