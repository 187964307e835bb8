"""Fixtures of the agent tests: real tools, real memory, real SQLite; only the model is fake."""

from __future__ import annotations

from pathlib import Path

import pytest
from _agent_helpers import make_settings

from agent.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws
