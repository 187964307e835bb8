"""The tool specs' size in the executor's budget, counted once per run, equals the count
of their whole JSON text (as the executor computed it at every step before)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _agent_helpers import file_registry

from agent.context import RunContext
from agent.executor import prompt_tokens
from agent.llm.base import ToolSpec


def _ctx(registry: Any, settings: Any) -> RunContext:
    return RunContext(
        llm=None,  # type: ignore[arg-type]
        registry=registry,
        tools=None,  # type: ignore[arg-type]
        memory=None,
        settings=settings,
        profile=None,  # type: ignore[arg-type]
        journal=None,  # type: ignore[arg-type]
    )


def _whole(specs: list[ToolSpec]) -> int:
    return prompt_tokens(json.dumps([s.model_dump() for s in specs]))


def test_spec_tokens_equal_the_whole_texts_count(settings: Any, tmp_path: Path) -> None:
    from tools import ToolRegistry

    skill = ToolSpec(
        name="skill_totals_by_region",
        description="Sum column 3 of 2024.csv per region (12 steps).",
        parameters={"type": "object", "properties": {"path": {"type": "string"}}},
    )
    tips = {"file_read": ["Read 200 lines at a time: files over 1 MB are cut."]}
    for registry in (file_registry(), ToolRegistry()):
        ctx = _ctx(registry, settings)
        for t in ({}, tips):
            for extra in ([], [skill], [skill, skill]):
                got = ctx.spec_tokens(t, extra)
                assert got == _whole(ctx.tool_specs(t) + extra), (len(registry), t, extra)
