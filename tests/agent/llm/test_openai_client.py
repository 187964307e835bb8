"""The OpenAI-compatible client against a fake server over real HTTP: faults, retries,
typed errors, structured output, tool calls (native and as JSON text), usage."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest
from fake_openai import TRANSIENT_FAULTS, FakeOpenAI, Reply
from pydantic import BaseModel, Field

from agent.config import ModelProfile, RetrySettings
from agent.errors import (
    AuthenticationFailed,
    BadRequest,
    ContextOverflow,
    ModelNotFound,
    ProviderUnavailable,
    StructuredOutputError,
)
from agent.llm import Message, OpenAIClient, ToolCall, ToolSpec

FAST = RetrySettings(
    max_attempts=6,
    initial_wait_s=0.01,
    max_wait_s=0.05,
    max_total_wait_s=0.5,
    timeout_s=0.4,
    structured_reasks=2,
)


class Verdict(BaseModel):
    success: bool
    confidence: float = Field(ge=0, le=1)


FILE_READ = ToolSpec(
    name="file_read",
    description="Read a text file in the workspace.",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
)


def client_for(
    fake: FakeOpenAI, *, retry: RetrySettings = FAST, api_key: str | None = "sk-test", **kw: Any
) -> OpenAIClient:
    profile = ModelProfile(model=fake.model, base_url=fake.base_url, api_key_env=None, **kw)
    return OpenAIClient(profile, retry=retry, api_key=api_key, profile_name="fake")


def ask(text: str = "hi") -> list[Message]:
    return [Message.system("You are terse."), Message.user(text)]


async def test_text_completion_with_usage_and_cost(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_text("hello", prompt_tokens=1000, completion_tokens=200, cached_tokens=400)
    llm = client_for(
        fake_openai, price_in_per_mtok=1.0, price_out_per_mtok=4.0, price_cached_per_mtok=0.5
    )
    done = await llm.complete(ask(), temperature=0.0, max_tokens=50)
    assert done.text == "hello" and done.finish_reason == "stop" and done.model == "fake-model"
    u = done.usage
    assert (u.input_tokens, u.output_tokens, u.cached_tokens, u.calls) == (1000, 200, 400, 1)
    assert u.cost_usd == pytest.approx((600 * 1.0 + 400 * 0.5 + 200 * 4.0) / 1e6)
    body = fake_openai.requests[0]
    assert body["temperature"] == 0.0 and body["max_tokens"] == 50
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}


async def test_thirty_percent_transient_faults_fifty_completions_succeed() -> None:
    with FakeOpenAI(seed=7, hang_s=2.0) as fake:
        fake.fault_rate = 0.3
        fake.fault_kinds = TRANSIENT_FAULTS
        fake.responder = lambda body: "echo " + body["messages"][-1]["content"]
        llm = client_for(fake)
        started = time.monotonic()
        for i in range(50):
            done = await llm.complete(ask(f"n{i}"))
            assert done.text == f"echo n{i}"
        elapsed = time.monotonic() - started

    faults = sum(fake.faults_served.values())
    stats = llm.stats
    assert fake.replies_served == 50
    assert len(fake.requests) == stats.requests == 50 + faults
    assert 0.15 <= faults / len(fake.requests) <= 0.45, fake.faults_served
    assert len(fake.faults_served) >= 5, fake.faults_served  # a real mix of faults
    assert stats.retries == faults and stats.gave_up == 0
    assert stats.max_attempts_in_call <= FAST.max_attempts
    assert stats.max_wait_in_call_s <= FAST.max_total_wait_s + 1e-6
    assert all(0 <= w <= FAST.max_wait_s + 1e-6 for w in stats.waits)
    assert stats.total_wait_s <= 50 * FAST.max_total_wait_s
    hangs = fake.faults_served["hang"]
    assert elapsed < 5 + hangs * (FAST.timeout_s + 0.3), elapsed
    seen = set(stats.faults)
    assert {"timeout", "connection", "malformed", "rate_limit"} & seen


async def test_retry_after_is_honoured_and_capped(fake_openai: FakeOpenAI) -> None:
    slow = FAST.model_copy(update={"max_wait_s": 1.0, "max_total_wait_s": 5.0})
    fake_openai.add_fault("rate_limit", retry_after=0.2)
    fake_openai.add_text("after 0.2s")
    llm = client_for(fake_openai, retry=slow)
    started = time.monotonic()
    assert (await llm.complete(ask())).text == "after 0.2s"
    assert llm.stats.waits == [pytest.approx(0.2)]
    assert time.monotonic() - started >= 0.2

    capped = FAST.model_copy(update={"max_wait_s": 0.1})
    fake_openai.add_fault("rate_limit", retry_after=30)
    fake_openai.add_text("capped")
    llm = client_for(fake_openai, retry=capped)
    assert (await llm.complete(ask())).text == "capped"
    assert llm.stats.waits == [pytest.approx(0.1)]


async def test_persistent_fault_gives_up_after_max_attempts(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_fault("unavailable", times=20)
    llm = client_for(fake_openai, retry=FAST.model_copy(update={"max_attempts": 4}))
    with pytest.raises(ProviderUnavailable) as info:
        await llm.complete(ask())
    assert len(fake_openai.requests) == 4
    assert llm.stats.retries == 3 and llm.stats.gave_up == 1
    message = str(info.value)
    assert "\n" not in message and fake_openai.base_url in message and "4 attempt" in message


async def test_total_wait_budget_bounds_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_fault("server_error", times=100)
    budget = RetrySettings(
        max_attempts=50, initial_wait_s=0.05, max_wait_s=0.1, max_total_wait_s=0.3, timeout_s=1
    )
    llm = client_for(fake_openai, retry=budget)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        await llm.complete(ask())
    assert llm.stats.total_wait_s <= 0.3 + 1e-6
    assert llm.stats.total_wait_s == pytest.approx(0.3, abs=0.01)  # the budget was used
    assert len(fake_openai.requests) < 50
    assert time.monotonic() - started < 2


async def test_backoff_grows_exponentially_with_jitter(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_fault("bad_gateway", times=4)
    fake_openai.add_text("ok")
    retry = RetrySettings(initial_wait_s=0.01, max_wait_s=1, max_total_wait_s=5, timeout_s=1)
    llm = client_for(fake_openai, retry=retry)
    await llm.complete(ask())
    waits = llm.stats.waits
    assert len(waits) == 4
    for n, wait in enumerate(waits):
        base = 0.01 * 2**n
        assert base / 2 - 1e-9 <= wait <= base + 1e-9


async def test_401_fails_at_once_naming_the_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JM_TEST_KEY", "sk-wrong-key-123")
    with FakeOpenAI(api_key="sk-right") as fake:
        profile = ModelProfile(model="m", base_url=fake.base_url, api_key_env="JM_TEST_KEY")
        llm = OpenAIClient(profile, retry=FAST, profile_name="remote")
        started = time.monotonic()
        with pytest.raises(AuthenticationFailed) as info:
            await llm.complete(ask())
        assert time.monotonic() - started < 1
        assert len(fake.requests) == 1 and llm.stats.retries == 0
    message = str(info.value)
    assert "JM_TEST_KEY" in message and "401" in message and "\n" not in message
    assert "sk-wrong" not in message


@pytest.mark.parametrize(
    ("fault", "error", "needle"),
    [
        ("forbidden", AuthenticationFailed, "403"),
        ("not_found", ModelNotFound, "check model 'fake-model'"),
        ("bad_request", BadRequest, "'messages' is malformed"),
        ("context_overflow", ContextOverflow, "does not fit the context window"),
    ],
)
async def test_client_errors_are_typed_and_not_retried(
    fake_openai: FakeOpenAI, fault: Any, error: type[Exception], needle: str
) -> None:
    fake_openai.add_fault(fault)
    llm = client_for(fake_openai)
    with pytest.raises(error, match=needle):
        await llm.complete(ask())
    assert len(fake_openai.requests) == 1 and llm.stats.retries == 0


async def test_unreachable_server_is_provider_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = ModelProfile(model="m", base_url=f"http://127.0.0.1:{port}/v1", api_key_env=None)
    llm = OpenAIClient(profile, retry=FAST.model_copy(update={"max_attempts": 2}))
    with pytest.raises(ProviderUnavailable, match=f"127.0.0.1:{port}.*connection"):
        await llm.complete(ask())


async def test_invalid_json_twice_then_valid_yields_parsed(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_texts(
        [
            "I think the task succeeded.",
            '{"success": "yes", "confidence": 2}',
            '<think>fix it</think>\n```json\n{"success": true, "confidence": 0.8,}\n```',
        ]
    )
    llm = client_for(fake_openai, json_schema=False)
    done = await llm.complete(ask("did it work?"), output=Verdict)
    assert done.parsed == Verdict(success=True, confidence=0.8)
    assert done.usage.calls == 3 and llm.stats.reasks == 2
    requests = fake_openai.requests
    assert len(requests) == 3
    assert "Verdict" in requests[0]["messages"][0]["content"]  # schema in the prompt
    assert "response_format" not in requests[0]
    reask = requests[2]["messages"][-1]["content"]
    assert "could not be used" in reask and "confidence" in reask and "'Verdict'" in reask
    assert requests[2]["messages"][-2] == {
        "role": "assistant",
        "content": '{"success": "yes", "confidence": 2}',
    }


async def test_never_valid_raises_structured_output_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_texts(["nope", "still nope", '{"success": 1.5}'])
    llm = client_for(fake_openai, json_schema=False)
    with pytest.raises(StructuredOutputError) as info:
        await llm.complete(ask(), output=Verdict)
    assert info.value.schema_name == "Verdict" and info.value.attempts == 3
    assert "'Verdict'" in str(info.value)
    assert len(fake_openai.requests) == 1 + FAST.structured_reasks


@pytest.mark.parametrize("mode", ["openai", "json_object"])
async def test_json_schema_response_format_per_profile(fake_openai: FakeOpenAI, mode: str) -> None:
    fake_openai.add_text('{"success": false, "confidence": 0.1}')
    llm = client_for(fake_openai, json_schema=True, schema_mode=mode)
    done = await llm.complete(ask(), output=Verdict)
    assert done.parsed == Verdict(success=False, confidence=0.1)
    fmt = fake_openai.requests[0]["response_format"]
    if mode == "openai":
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"
        assert fmt["json_schema"]["schema"]["required"] == ["success", "confidence"]
    else:
        assert fmt == {"type": "json_object", "schema": Verdict.model_json_schema()}


async def test_native_tool_calls(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_tool_call("file_read", {"path": "notes/ü.txt"})
    llm = client_for(fake_openai)
    done = await llm.complete(ask(), tools=[FILE_READ])
    assert done.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in done.tool_calls] == [
        ("file_read", {"path": "notes/ü.txt"})
    ]
    sent = fake_openai.requests[0]
    assert sent["tools"][0]["function"]["name"] == "file_read"

    # the call and its result go back in OpenAI's shape
    fake_openai.add_text("done")
    history = [
        *ask(),
        done.to_message(),
        Message.tool("hello", tool_call_id=done.tool_calls[0].id, name="file_read"),
    ]
    await llm.complete(history, tools=[FILE_READ])
    sent_history = fake_openai.requests[1]["messages"]
    assert sent_history[2]["tool_calls"][0]["function"]["arguments"] == json.dumps(
        {"path": "notes/ü.txt"}
    )
    assert sent_history[3] == {
        "role": "tool",
        "content": "hello",
        "tool_call_id": done.tool_calls[0].id,
    }


async def test_truncated_tool_arguments_are_reasked(fake_openai: FakeOpenAI) -> None:
    args = {"path": "report.md", "content": "a long report " * 10}
    fake_openai.add_truncated_tool_call("file_write", args)
    fake_openai.add_tool_call("file_write", args)
    llm = client_for(fake_openai)
    done = await llm.complete(ask(), tools=[FILE_READ])
    assert done.tool_calls[0].arguments == args
    reask = fake_openai.requests[1]["messages"][-1]["content"]
    assert "file_write" in reask and "cut off" in reask


async def test_always_truncated_tool_arguments_raise(fake_openai: FakeOpenAI) -> None:
    for _ in range(3):
        fake_openai.add_truncated_tool_call("file_write", {"path": "x", "content": "y" * 50})
    llm = client_for(fake_openai)
    with pytest.raises(StructuredOutputError, match="arguments of tool 'file_write'"):
        await llm.complete(ask(), tools=[FILE_READ])


async def test_text_protocol_for_models_without_native_tools(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_text(
        'I will read the file.\n```json\n{"tool": "file_read", "arguments": {"path": "a.txt"}}\n```'
    )
    llm = client_for(fake_openai, native_tools=False, json_schema=True, schema_mode="json_object")
    done = await llm.complete(ask("read a.txt"), tools=[FILE_READ])
    assert [(c.name, c.arguments) for c in done.tool_calls] == [("file_read", {"path": "a.txt"})]
    assert done.text == "I will read the file." and done.finish_reason == "tool_calls"
    sent = fake_openai.requests[0]
    assert "tools" not in sent
    system = sent["messages"][0]["content"]
    assert system.startswith("You are terse.") and "file_read" in system and '"tool"' in system
    fmt = sent["response_format"]
    assert fmt["type"] == "json_object"
    branches = fmt["schema"]["anyOf"]
    assert branches[0]["properties"]["tool"] == {"const": "file_read"}
    assert "final_answer" in branches[-1]["properties"]

    # history with tool calls is rendered as text: no tool roles reach the server
    fake_openai.add_text('{"final_answer": "a.txt says hello"}')
    history = [
        *ask("read a.txt"),
        done.to_message(),
        Message.tool("hello", tool_call_id=done.tool_calls[0].id, name="file_read"),
    ]
    final = await llm.complete(history, tools=[FILE_READ])
    assert final.text == "a.txt says hello" and not final.tool_calls
    roles = [m["role"] for m in fake_openai.requests[1]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    msgs = fake_openai.requests[1]["messages"]
    assert '"tool": "file_read"' in msgs[2]["content"]
    assert msgs[3]["content"].startswith("Observation of file_read:")


async def test_compact_tool_catalogue_keeps_the_schema_constraint(
    fake_openai: FakeOpenAI,
) -> None:
    tipped = FILE_READ.model_copy(
        update={
            "description": FILE_READ.description
            + "\nTips from experience:\n- Read big files with offset."
        }
    )
    fake_openai.add_text('{"tool": "file_read", "arguments": {"path": "a.txt"}}')
    fake_openai.add_text('{"tool": "file_read", "arguments": {"path": "a.txt"}}')
    full = client_for(fake_openai, native_tools=False, schema_mode="json_object")
    compact = client_for(
        fake_openai, native_tools=False, schema_mode="json_object", compact_tools=True
    )
    await full.complete(ask("read a.txt"), tools=[tipped])
    done = await compact.complete(ask("read a.txt"), tools=[tipped])
    assert done.tool_calls[0].arguments == {"path": "a.txt"}
    long, short = (r["messages"][0]["content"] for r in fake_openai.requests)
    assert "arguments schema" in long and "arguments schema" not in short
    assert "- file_read(path: string) - Read a text file in the workspace." in short
    assert "  tip: Read big files with offset." in short
    assert len(short) < len(long)
    # the reply is constrained by the same schema either way
    assert fake_openai.requests[0]["response_format"] == fake_openai.requests[1]["response_format"]


async def test_a_required_tool_call_is_enforced_by_the_provider(fake_openai: FakeOpenAI) -> None:
    """Text protocol: the action grammar has no final-answer branch; native: tool_choice."""
    fake_openai.add_text('{"tool": "file_read", "arguments": {"path": "a.txt"}}')
    fake_openai.add_tool_call("file_read", {"path": "a.txt"})
    fake_openai.add_text('{"final_answer": "done"}')
    text = client_for(fake_openai, native_tools=False, schema_mode="json_object")
    done = await text.complete(ask(), tools=[FILE_READ], require_tool=True)
    assert done.tool_calls[0].name == "file_read"
    branches = fake_openai.requests[0]["response_format"]["schema"]["anyOf"]
    assert [list(b["properties"]) for b in branches] == [["tool", "arguments"]]
    await client_for(fake_openai).complete(ask(), tools=[FILE_READ], require_tool=True)
    assert fake_openai.requests[1]["tool_choice"] == "required"
    await text.complete(ask(), tools=[FILE_READ])  # not required: the final answer is allowed
    assert (
        "final_answer"
        in fake_openai.requests[2]["response_format"]["schema"]["anyOf"][-1]["properties"]
    )
    assert "tool_choice" not in fake_openai.requests[0]


async def test_a_server_without_tool_choice_required_is_asked_without_it(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.add_fault("tool_choice_unsupported")
    fake_openai.add_tool_call("file_read", {"path": "a.txt"})
    fake_openai.add_tool_call("file_read", {"path": "b.txt"})
    llm = client_for(fake_openai)
    done = await llm.complete(ask(), tools=[FILE_READ], require_tool=True)
    assert done.tool_calls[0].arguments == {"path": "a.txt"}
    again = await llm.complete(ask(), tools=[FILE_READ], require_tool=True)
    assert again.tool_calls[0].arguments == {"path": "b.txt"}
    sent = fake_openai.requests
    assert [r.get("tool_choice") for r in sent] == ["required", None, None]


async def test_text_protocol_reasks_unknown_tool(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_text('{"tool": "file_delete", "arguments": {"path": "a"}}')
    fake_openai.add_text('{"tool": "file_read", "arguments": {"path": "a"}}')
    llm = client_for(fake_openai, native_tools=False, json_schema=False)
    done = await llm.complete(ask(), tools=[FILE_READ])
    assert done.tool_calls[0].name == "file_read"
    assert "no tool named 'file_delete'" in fake_openai.requests[1]["messages"][-1]["content"]
    assert "response_format" not in fake_openai.requests[0]


async def test_openai_schema_mode_for_text_protocol(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_text('{"final_answer": "ok"}')
    llm = client_for(fake_openai, native_tools=False, json_schema=True, schema_mode="openai")
    done = await llm.complete(ask(), tools=[FILE_READ])
    assert done.text == "ok"
    fmt = fake_openai.requests[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "action"


async def test_ping_lists_models(fake_openai: FakeOpenAI) -> None:
    assert await client_for(fake_openai).ping() == ["fake-model"]


async def test_reply_with_tool_calls_and_text_in_one(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_reply(
        Reply(text="reading", tool_calls=[("file_read", '{"path": "a"}'), ("file_read", "{}")])
    )
    done = await client_for(fake_openai).complete(ask(), tools=[FILE_READ])
    assert done.text == "reading"
    assert [c.arguments for c in done.tool_calls] == [{"path": "a"}, {}]
    assert isinstance(done.tool_calls[0], ToolCall) and done.tool_calls[0].id != ""


def test_one_client_survives_several_event_loops(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_texts(["one", "two"])
    llm = client_for(fake_openai)
    assert asyncio.run(llm.complete(ask())).text == "one"
    assert asyncio.run(llm.complete(ask())).text == "two"


async def test_text_protocol_final_answer_as_structured_output(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_text('{"final_answer": {"success": true, "confidence": 0.7}}')
    llm = client_for(fake_openai, native_tools=False, json_schema=True, schema_mode="json_object")
    done = await llm.complete(ask(), tools=[FILE_READ], output=Verdict)
    assert done.parsed == Verdict(success=True, confidence=0.7) and not done.tool_calls
    final_branch = fake_openai.requests[0]["response_format"]["schema"]["anyOf"][-1]
    assert final_branch["properties"]["final_answer"]["title"] == "Verdict"
