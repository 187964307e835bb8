"""Scripted and function models: the same protocol as the real client, no network."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agent.errors import ProviderUnavailable, ScriptExhausted, StructuredOutputError
from agent.llm import LLM, Completion, FunctionLLM, Message, ScriptedLLM, ToolCall, ToolSpec

READ = ToolSpec(
    name="file_read",
    description="Read a file.",
    parameters={"type": "object", "properties": {"path": {"type": "string"}}},
)


class Plan(BaseModel):
    steps: list[str]


def ask(text: str = "go") -> list[Message]:
    return [Message.user(text)]


async def test_replays_every_kind_of_item() -> None:
    llm = ScriptedLLM(
        [
            "plain text",
            {"tool": "file_read", "arguments": {"path": "a.txt"}},
            [{"tool": "file_read", "arguments": {"path": "1"}}, {"tool": "x", "arguments": {}}],
            {"final_answer": "done"},
            ToolCall(id="c1", name="file_read", arguments={"path": "b"}),
            Completion(text="as is", finish_reason="length"),
            '```json\n{"tool": "file_read", "arguments": {"path": "c"}}\n```',
        ]
    )
    assert isinstance(llm, LLM)
    assert (await llm.complete(ask())).text == "plain text"
    call = await llm.complete(ask(), tools=[READ])
    assert call.tool_calls[0].name == "file_read" and call.tool_calls[0].arguments == {
        "path": "a.txt"
    }
    assert call.finish_reason == "tool_calls"
    assert [c.name for c in (await llm.complete(ask())).tool_calls] == ["file_read", "x"]
    assert (await llm.complete(ask())).text == "done"
    assert (await llm.complete(ask())).tool_calls[0].id == "c1"
    as_is = await llm.complete(ask())
    assert as_is.text == "as is" and as_is.finish_reason == "length"
    text_action = await llm.complete(ask(), tools=[READ])
    assert text_action.tool_calls[0].arguments == {"path": "c"}
    assert llm.remaining == 0 and len(llm.calls) == 7
    assert llm.calls[1].tools == [READ]


async def test_runs_out_with_a_clear_error() -> None:
    llm = ScriptedLLM(["only one"], name="planner-script")
    await llm.complete(ask())
    with pytest.raises(
        ScriptExhausted, match="'planner-script' ran out of replies after 1"
    ) as info:
        await llm.complete(ask("what next?"))
    assert "what next?" in str(info.value)


async def test_structured_output_from_objects_dicts_and_messy_text() -> None:
    llm = ScriptedLLM(
        [
            Plan(steps=["a"]),
            {"steps": ["b"]},
            '<think>hmm</think> Sure:\n```json\n{"steps": ["c",],}\n```',
        ]
    )
    for expected in ("a", "b", "c"):
        done = await llm.complete(ask(), output=Plan)
        assert done.parsed == Plan(steps=[expected])


async def test_invalid_output_is_reasked_then_raises() -> None:
    llm = ScriptedLLM(["no json", '{"steps": "not a list"}', {"steps": ["ok"]}])
    done = await llm.complete(ask(), output=Plan)
    assert done.parsed == Plan(steps=["ok"]) and done.usage.calls == 3
    reask = llm.calls[2].messages[-1].content
    assert "could not be used" in reask and "'Plan'" in reask

    never = ScriptedLLM(["a", "b", "c"], reasks=2)
    with pytest.raises(StructuredOutputError) as info:
        await never.complete(ask(), output=Plan)
    assert info.value.schema_name == "Plan" and never.remaining == 0


async def test_exceptions_in_the_script_are_raised() -> None:
    llm = ScriptedLLM([ProviderUnavailable("provider down"), "recovered"])
    with pytest.raises(ProviderUnavailable, match="provider down"):
        await llm.complete(ask())
    assert (await llm.complete(ask())).text == "recovered"


async def test_usage_is_estimated_and_priced() -> None:
    from agent.config import ModelProfile

    profile = ModelProfile(model="m", price_in_per_mtok=1.0, price_out_per_mtok=2.0)
    llm = ScriptedLLM(["x" * 400], profile=profile)
    done = await llm.complete([Message.user("y" * 4000)])
    assert done.usage.input_tokens == 1001 and done.usage.output_tokens == 101
    assert done.usage.cost_usd == pytest.approx((1001 * 1 + 101 * 2) / 1e6)


async def test_function_llm_sync_and_async() -> None:
    def echo(messages, tools, output):
        if output is Plan:
            return {"steps": [messages[-1].content]}
        if tools:
            return {"tool": tools[0].name, "arguments": {"path": messages[-1].content}}
        return "echo: " + messages[-1].content

    llm = FunctionLLM(echo)
    assert (await llm.complete(ask("hi"))).text == "echo: hi"
    assert (await llm.complete(ask("p"), output=Plan)).parsed == Plan(steps=["p"])
    assert (await llm.complete(ask("f"), tools=[READ])).tool_calls[0].arguments == {"path": "f"}

    async def later(messages, tools, output):
        return Completion(text=str(len(messages)))

    assert (await FunctionLLM(later).complete(ask())).text == "1"
