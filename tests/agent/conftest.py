"""Fixtures of the agent tests: real tools, real memory, real SQLite; only the model is fake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _agent_helpers import make_settings

from agent.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import Site, serve


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def site() -> Iterator[Site]:
    """The browser test site (tests/tools/browser_site.py) served on 127.0.0.1."""
    app = Site()
    with serve(app) as base:
        app.base = base
        yield app
