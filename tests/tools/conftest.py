"""Shared fixtures of the tools tests: a workspace with a neighbouring 'outside' folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tools import ToolContext, ToolRegistry, ToolSettings, default_registry


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the workspace holding a secret the tools must never reach."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("TOP SECRET\n")
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


@pytest.fixture
def registry() -> ToolRegistry:
    return default_registry(enabled=("files", "shell", "python", "memory"))


@pytest_asyncio.fixture
async def ctx(workspace: Path) -> AsyncIterator[ToolContext]:
    async with ToolContext(workspace, ToolSettings(shell_timeout_s=20)) as context:
        yield context
