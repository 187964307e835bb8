"""The registry: schemas, text description, validation errors, budgets, tips."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from tools import ToolContext, ToolRegistry, ToolResult, default_registry, tool
from tools.registry import enforce_budget


class EchoArgs(BaseModel):
    text: str = Field(description="What to say back.")
    times: int = Field(default=1, ge=1, le=5, description="How often.")


@tool(name="test_echo", group="shell", read_only=True)
async def echo(ctx: ToolContext, args: EchoArgs) -> ToolResult:
    """Say the text back."""
    return ToolResult(output=args.text * args.times)


@tool(name="test_boom", group="shell", read_only=False)
async def boom(ctx: ToolContext, args: EchoArgs) -> ToolResult:
    """Always fails with a bug."""
    raise RuntimeError("kaput")


def test_default_registry_names_groups_and_schemas() -> None:
    reg = default_registry()
    names = reg.names
    for expected in (
        "browser_goto",
        "browser_click",
        "browser_type",
        "file_read",
        "file_write",
        "shell_run",
        "python_run",
        "memory_search",
        "memory_get",
    ):
        assert expected in names
    assert len(set(names)) == len(names)
    assert all(
        n.split("_")[0] in {"browser", "file", "shell", "python", "memory", "mail"} for n in names
    )
    assert reg.get("mail_inbox").read_only and not reg.get("mail_send").read_only
    assert reg.get("file_read").read_only and not reg.get("file_write").read_only
    assert reg.get("browser_goto").group == "browser"
    schemas = reg.openai_schemas()
    assert {s["name"] for s in schemas} == set(names)
    for schema in schemas:
        assert set(schema) == {"name", "description", "parameters"}
        assert schema["description"]
        assert schema["parameters"]["type"] == "object"
        json.dumps(schema)  # serialisable
        assert "title" not in schema["parameters"]
        for prop in schema["parameters"].get("properties", {}).values():
            assert prop.get("description"), f"{schema['name']}: parameter without description"


def test_enabled_groups_and_read_only_subset() -> None:
    reg = default_registry(enabled=("files",))
    assert reg.names and all(n.startswith("file_") for n in reg.names)
    ro = default_registry(read_only=True)
    assert "file_read" in ro and "file_write" not in ro and "shell_run" not in ro


def test_tips_are_attached_and_text_description() -> None:
    reg = ToolRegistry([echo])
    schema = reg.openai_schemas(tips={"test_echo": ["Say it loud."]})[0]
    assert "Tips from experience" in schema["description"]
    assert "Say it loud." in schema["description"]
    text = reg.describe_text()
    assert "test_echo(text, times)" in text
    assert "text (string, required): What to say back." in text
    assert "times (integer, default 1)" in text
    compact = reg.describe_text(tips={"test_echo": ["Say it loud."]}, compact=True)
    assert (
        compact
        == "test_echo(text: string, times?: integer) - Say the text back.\n  tip: Say it loud."
    )
    full, short = default_registry().describe_text(), default_registry().describe_text(compact=True)
    assert len(short) < len(full) / 2


async def test_call_validates_runs_and_budgets(ctx: ToolContext) -> None:
    reg = ToolRegistry([echo, boom])
    bad = await reg.call("test_echo", {"times": 9}, ctx)
    assert bad.error and "text: Field required" in bad.error and "times" in bad.error
    res = await reg.call("test_echo", json.dumps({"text": "ab", "times": 2}), ctx)
    assert res.ok and res.output == "abab"
    broken = await reg.call("test_echo", "{not json", ctx)
    assert broken.error and "not valid JSON" in broken.error
    missing = await reg.call("test_ech", {}, ctx)
    assert missing.error and "did you mean test_echo" in missing.error
    crash = await reg.call("test_boom", {"text": "x"}, ctx)
    assert crash.error and "RuntimeError: kaput" in crash.error
    ctx.settings.output_budget_chars = 300
    big = await reg.call("test_echo", {"text": "x" * 1000, "times": 1}, ctx)
    assert len(big.output) <= 300
    assert big.truncated_chars == 1000 - big.output.count("x")
    assert "characters cut" in big.output


def test_enforce_budget_counts_cut() -> None:
    res = enforce_budget(ToolResult(output="z" * 5000, truncated_chars=7), 1000)
    assert len(res.output) <= 1000
    assert res.truncated_chars == 7 + 5000 - res.output.count("z")


def test_result_text_for_the_model() -> None:
    res = ToolResult(output="done", error="exit code 1", artifacts=["a.png"])
    assert res.for_model() == "done\nERROR: exit code 1\nArtifacts: a.png"
    assert ToolResult().for_model() == "(no output)" and ToolResult().ok


def test_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tool group"):
        default_registry(enabled=("files", "email"))


async def test_near_miss_arguments_are_accepted_or_answered_in_one_line(tmp_path) -> None:
    """Small models' near misses: depth 0, an id as "[3]", file_path for path."""
    from tools import ToolContext, default_registry

    reg = default_registry(enabled=("files",))
    (tmp_path / "a.txt").write_text("alpha")
    async with ToolContext(tmp_path) as ctx:
        listed = await reg.call("file_list", {"depth": 0}, ctx)
        assert listed.error is None and "a.txt" in listed.output
        read = await reg.call("file_read", {"file_path": "a.txt"}, ctx)
        assert read.error is None and "alpha" in read.output
        bad = await reg.call("file_read", {"name": "a.txt", "mode": "r"}, ctx)
        assert bad.error is not None and "\n" not in bad.error
        assert "Send: file_read(path: str" in bad.error
