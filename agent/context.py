"""What every node receives besides the state: the run's dependencies (LangGraph runtime context).

Nothing in here is checkpointed; ``run_task`` builds it anew for every start or resume.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.llm.base import LLM, ToolSpec

if TYPE_CHECKING:
    from agent.config import ModelProfile, Settings
    from agent.journal import Journal
    from tools import ToolContext, ToolRegistry


@dataclass
class RunContext:
    """The dependencies of one run: model, tools, memory, limits, journal, clock."""

    llm: LLM
    registry: ToolRegistry
    tools: ToolContext
    memory: Any  # memory.MemoryStore | None (typed loosely: memory is optional at runtime)
    settings: Settings
    profile: ModelProfile
    journal: Journal
    learn: bool = True
    elapsed_before: float = 0.0
    clock_start: float = field(default_factory=time.monotonic)
    spec_cache: dict[tuple[str, ...], list[ToolSpec]] = field(default_factory=dict)
    # tips key -> (characters, digits) of the cached specs' JSON, for ``spec_tokens``
    spec_sizes: dict[tuple[str, ...], tuple[int, int]] = field(default_factory=dict)
    # (subtask id, attempt) -> a copy of the workspace as that attempt started (replays)
    starts: dict[tuple[int, int], Path] = field(default_factory=dict)
    # the workspace's files before the run's first change: a file an earlier attempt
    # created is an output of the task, not an input, when a later attempt is learned from
    first_files: set[str] | None = None

    def elapsed(self) -> float:
        """Wall-clock seconds of the run so far, across restarts."""
        return self.elapsed_before + time.monotonic() - self.clock_start

    def tool_specs(self, tips: dict[str, list[str]]) -> list[ToolSpec]:
        """The tools as the model sees them, with learned tips attached (cached)."""
        key = _tips_key(tips)
        if key not in self.spec_cache:
            self.spec_cache[key] = [
                ToolSpec(**s) for s in self.registry.openai_schemas(tips=tips or None)
            ]
        return self.spec_cache[key]

    def spec_tokens(self, tips: dict[str, list[str]], extra: list[ToolSpec]) -> int:
        """``prompt_tokens(json.dumps([s.model_dump() for s in specs]))`` of the tool specs
        and ``extra`` ones (skills), the cached specs' text measured once per run: the
        model is sent the same dozen schemas at every step."""
        key = _tips_key(tips)
        if key not in self.spec_sizes:
            self.spec_sizes[key] = _json_size(self.tool_specs(tips))
        chars, digits = self.spec_sizes[key]
        n = len(self.tool_specs(tips))
        if extra:
            more, more_digits = _json_size(extra)
            # "[a, b]" + "[c]" -> "[a, b, c]": one pair of brackets, one separator more
            chars, digits = chars + more - 2 + (2 if n else 0), digits + more_digits
        return (chars - digits) // 3 + digits + 1


def _tips_key(tips: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(f"{k}={v}" for k, vs in sorted(tips.items()) for v in vs)


def _json_size(specs: list[ToolSpec]) -> tuple[int, int]:
    """Characters and digits of ``json.dumps([s.model_dump() for s in specs])``."""
    text = json.dumps([s.model_dump() for s in specs])
    return len(text), sum(map(str.isdigit, text))
