"""The README's two MCP snippets are what a user pastes: they must parse and mean what it says."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from agent.cli import app
from agent.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## MCP: the memory as a server")
    return text[start : text.index("\n## ", start + 1)]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _section(), flags=re.S)


def test_client_configuration_points_at_the_real_command() -> None:
    (block,) = _blocks("json")
    server = json.loads(block)["mcpServers"]["journeyman"]
    assert server["command"] == "journeyman" and server["args"][:2] == ["mcp", "serve"]
    options = [a for a in server["args"][2:] if a.startswith("--")]
    result = CliRunner().invoke(app, ["mcp", "serve", "--help"])
    assert result.exit_code == 0
    assert all(opt in result.stdout for opt in options)


def test_toml_attaches_servers_as_the_settings_read_them() -> None:
    (block,) = _blocks("toml")
    settings = Settings(**tomllib.loads(block))
    fs, time_ = settings.tools.mcp
    assert fs.tool_prefix == "fs_" and fs.args[-1] == "{workspace}"
    assert fs.is_read_only("read_text_file") and not fs.is_read_only("write_file")
    assert time_.is_read_only("get_current_time")
