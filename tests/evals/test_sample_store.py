"""The sample store builder never replaces a folder it did not make."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.sample_store import MARKER, build_sample_store


def test_refuses_a_folder_that_is_not_a_sample(tmp_path: Path) -> None:
    real = tmp_path / "memory"
    real.mkdir()
    (real / "memory.db").write_bytes(b"someone's memory")
    with pytest.raises(SystemExit, match="not a sample store"):
        build_sample_store(real)
    assert (real / "memory.db").read_bytes() == b"someone's memory"


def test_keeps_an_existing_sample_when_asked(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / MARKER).write_text("{}")
    assert build_sample_store(sample, force=False) == sample.resolve()
    assert [p.name for p in sample.iterdir()] == [MARKER]
