"""Tolerant parsing of messy model replies: the corpus in data/messy_replies.jsonl, and edges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from agent.llm import ReplyParseError, ToolSpec, extract_json, parse_action, parse_structured
from agent.llm.parsing import parse_arguments, strip_reasoning

CORPUS = Path(__file__).parent / "data" / "messy_replies.jsonl"


class Step(BaseModel):
    title: str
    tool: str | None = None


class Plan(BaseModel):
    goal: str
    steps: list[Step]


class Verdict(BaseModel):
    success: bool
    confidence: float = Field(ge=0, le=1)
    evidence: str


SCHEMAS: dict[str, type[BaseModel]] = {"Plan": Plan, "Verdict": Verdict}


def _tool(name: str, *params: str) -> ToolSpec:
    props = {p: {"type": "string"} for p in params}
    return ToolSpec(
        name=name,
        description=f"the {name} tool",
        parameters={"type": "object", "properties": props, "required": list(params)},
    )


TOOLS = [
    _tool("file_read", "path"),
    _tool("file_write", "path", "content"),
    _tool("file_list", "path"),
    _tool("shell_run", "command"),
    _tool("browser_goto", "url"),
    _tool("browser_click", "element"),
    _tool("browser_type", "element", "text"),
]


def _corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def test_corpus_is_big_and_varied() -> None:
    rows = _corpus()
    assert len(rows) >= 30
    assert {r["kind"] for r in rows} == {"json", "structured", "action"}
    replies = " ".join(r["reply"] for r in rows)
    for marker in ("```", "<think>", "<tool_call>", "Action Input:", '\\"', "ü", "東京"):
        assert marker in replies


@pytest.mark.parametrize("row", _corpus(), ids=lambda r: r["id"])
def test_messy_reply_parses_as_expected(row: dict[str, Any]) -> None:
    expected = row["expected"]
    if "error" in expected:
        with pytest.raises(ReplyParseError, match=expected["error"]):
            _parse(row)
        return
    got = _parse(row)
    if row["kind"] == "action":
        assert got["kind"] == expected["kind"]
        if "calls" in expected:
            assert got["calls"] == expected["calls"]
        if "final_answer" in expected:
            assert got["final_answer"] == expected["final_answer"]
        if "thought" in expected:
            assert got["thought"] == expected["thought"]
    else:
        assert got == expected


def _parse(row: dict[str, Any]) -> Any:
    if row["kind"] == "json":
        return extract_json(row["reply"])
    if row["kind"] == "structured":
        return parse_structured(row["reply"], SCHEMAS[row["schema"]]).model_dump()
    action = parse_action(row["reply"], TOOLS)
    return {
        "kind": action.kind,
        "calls": [{"name": c.name, "arguments": c.arguments} for c in action.tool_calls],
        "final_answer": action.final_answer,
        "thought": action.thought,
    }


def test_tool_call_ids_are_unique() -> None:
    action = parse_action('[{"tool": "a", "arguments": {}}, {"tool": "a", "arguments": {}}]')
    ids = [c.id for c in action.tool_calls]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)


def test_bare_name_object_is_data_unless_it_names_a_tool() -> None:
    assert parse_action('{"name": "Alice", "age": 31}', TOOLS).kind == "text"
    action = parse_action('{"name": "file_read", "path": "a.txt"}', TOOLS)
    assert action.kind == "tool" and action.tool_calls[0].arguments == {"path": "a.txt"}


def test_structured_validation_error_names_schema_and_field() -> None:
    with pytest.raises(ReplyParseError) as info:
        parse_structured('{"success": true}', Verdict)
    assert "'Verdict'" in str(info.value) and "confidence" in str(info.value)


def test_truncated_arguments_are_reported_as_cut_off() -> None:
    with pytest.raises(ReplyParseError, match="cut off"):
        parse_arguments('{"path": "reports/q')
    with pytest.raises(ReplyParseError, match="JSON object"):
        parse_arguments("[1, 2]")
    assert parse_arguments("") == {}


def test_strip_reasoning_variants() -> None:
    assert strip_reasoning("<think>a</think>b") == "b"
    assert strip_reasoning("a</think>b") == "b"
    assert strip_reasoning("answer <think>never closed") == "answer"
    assert strip_reasoning("<THINKING>x</THINKING> y") == "y"


def test_extract_json_without_json_raises() -> None:
    with pytest.raises(ReplyParseError, match="no JSON"):
        extract_json("nothing to see here")
    with pytest.raises(ReplyParseError, match="empty"):
        extract_json("<think>only thoughts</think>")
