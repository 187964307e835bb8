"""The real 0.5B model behind llama.cpp: a structured plan and a tool-call action validate.

Constrained decoding (``response_format={"type": "json_object", "schema": ...}``, sent by the
client for profiles with ``schema_mode="json_object"``) is what makes a model this small
reliable enough to test against.
"""

from __future__ import annotations

import pytest
from _local_helpers import require_small_model
from pydantic import BaseModel, Field

from agent.config import Settings
from agent.llm import Message, ToolSpec, build_llm
from agent.local.managed import amanaged_model


class Plan(BaseModel):
    """An ordered list of subtasks."""

    subtasks: list[str] = Field(min_length=1, max_length=8, description="Ordered subtasks.")


class ReadFileArgs(BaseModel):
    """Arguments of the read_file tool."""

    path: str = Field(min_length=1, description="Path of the file to read.")


class WriteFileArgs(BaseModel):
    """Arguments of the write_file tool."""

    path: str = Field(min_length=1)
    content: str


TOOLS = [
    ToolSpec(
        name="read_file",
        description="Read a text file.",
        parameters=ReadFileArgs.model_json_schema(),
    ),
    ToolSpec(
        name="write_file",
        description="Write a text file.",
        parameters=WriteFileArgs.model_json_schema(),
    ),
]
TASK = "Count the data rows of sales.csv and write the number to count.txt."


@pytest.mark.local_model
async def test_small_model_plans_and_acts() -> None:
    require_small_model()
    settings = Settings()
    async with amanaged_model(settings, "local-small") as base_url:
        llm = build_llm(settings, "local-small", base_url=base_url)
        try:
            plan = await llm.complete(
                [
                    Message.system("You plan tasks as a short ordered list of subtasks."),
                    Message.user(f"Task: {TASK}"),
                ],
                output=Plan,
                temperature=0,
                max_tokens=300,
            )
            assert isinstance(plan.parsed, Plan)
            assert all(step.strip() for step in plan.parsed.subtasks)

            action = await llm.complete(
                [
                    Message.system("You act by calling exactly one tool."),
                    Message.user(f"Task: {TASK}\nFirst subtask: read sales.csv."),
                ],
                tools=TOOLS,
                temperature=0,
                max_tokens=200,
            )
        finally:
            await llm.aclose()
    assert action.tool_calls, f"no tool call; text was {action.text!r}"
    call = action.tool_calls[0]
    args_model = {"read_file": ReadFileArgs, "write_file": WriteFileArgs}[call.name]
    args_model.model_validate(call.arguments)
