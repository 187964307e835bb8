"""Settings of the tools (a section of journeyman's configuration)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ToolSettings(BaseModel):
    """Limits and policies of the tools the agent may use."""

    browser_path: Path | None = Field(
        default=None, description="Chromium executable; else Playwright's own, else `chromium`."
    )
    browser_headless: bool = True
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"],
        description="Hosts the browser may open (exact names or '*.suffix').",
    )
    browser_timeout_s: float = Field(default=15.0, gt=0)
    observation_budget_chars: int = Field(default=6000, ge=500)
    shell_timeout_s: float = Field(default=60.0, gt=0)
    output_budget_chars: int = Field(default=8000, ge=200)
    max_file_bytes: int = Field(default=20_000_000, ge=1)
