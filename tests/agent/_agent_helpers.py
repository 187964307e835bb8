"""Helpers of the agent tests (scripted replies, a file-tools registry, settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.config import Settings


def make_settings(tmp_path: Path, **limits: Any) -> Settings:
    """Settings isolated in ``tmp_path`` (runs, memory), with optional limit overrides."""
    return Settings(runs_dir=tmp_path / "runs", memory={"path": tmp_path / "memory"}, limits=limits)


def file_registry() -> Any:
    """Files and shell tools (no browser, no memory lookup): fast and real."""
    from tools.files import FILE_TOOLS
    from tools.registry import ToolRegistry
    from tools.shell import SHELL_TOOLS

    return ToolRegistry([*FILE_TOOLS, *SHELL_TOOLS])


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call."""
    return {"tool": tool, "arguments": arguments}


def answer(text: str) -> dict[str, Any]:
    """A scripted final answer."""
    return {"final_answer": text}


def plan(*goals: str) -> dict[str, Any]:
    """A scripted plan."""
    return {"subtasks": [{"goal": g, "done_when": f"{g} is visible"} for g in goals]}


def verdict(
    achieved: bool, analysis: str = "", memory: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A scripted reflection."""
    return {
        "achieved": achieved,
        "evidence": "seen in the observation" if achieved else "",
        "analysis": analysis,
        "memory": memory or [],
    }
