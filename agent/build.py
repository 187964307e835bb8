"""Explicit wiring: ``build_agent(settings)`` creates and connects model, memory and tools."""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.config import ModelProfile, Settings, resolve_profile
from agent.errors import ConfigError
from agent.llm.base import LLM

COMPACT_TOOLS = (
    "browser_goto",
    "browser_click",
    "browser_type",
    "browser_read",
    "file_read",
    "file_write",
    "file_list",
    "shell_run",
    "python_run",
    "memory_get",
)
"""The tools offered to small-context models (a quarter of the full catalogue's tokens)."""
COMPACT_CONTEXT = 16_384

LLM_HOOK_ENV = "JOURNEYMAN_LLM"
"""``module:function``; when set, ``function(settings)`` returns the model to use instead of
the configured profile (a scripted model in tests and demos without a network)."""


@dataclass
class Agent:
    """A wired agent: use it with :func:`agent.runner.run_task`.

    ``async with agent:`` keeps one tool context (and its browser) open across runs and
    closes the memory store it opened; without it, each run opens its own tool context.
    """

    settings: Settings
    llm: LLM
    registry: Any  # tools.ToolRegistry
    memory: Any  # memory.MemoryStore | None
    workspace: Path
    profile_name: str
    profile: ModelProfile
    learn: bool = True
    memory_path: Path | None = None
    tools: Any = None  # tools.ToolContext while entered
    spec_cache: dict[Any, Any] = field(default_factory=dict, repr=False)  # tool schemas
    _owns_memory: bool = field(default=False, repr=False)

    @property
    def runs_dir(self) -> Path:
        """Where run folders (checkpoints, action journal) live."""
        return self.settings.runs_dir.expanduser()

    def tool_context(self) -> Any:
        """A fresh tool context over the workspace (the caller enters and closes it)."""
        from tools import ToolContext

        return ToolContext(self.workspace, self.settings.tools, self.memory)

    async def __aenter__(self) -> Agent:
        self.tools = await self.tool_context().__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the tool context and the memory store this agent opened."""
        if self.tools is not None:
            tools, self.tools = self.tools, None
            await tools.aclose()
        if self._owns_memory and self.memory is not None:
            self.memory.close()
            self.memory = None


def llm_from_hook(settings: Settings) -> LLM | None:
    """The model named by ``$JOURNEYMAN_LLM`` (``module:function``), if set."""
    spec = os.environ.get(LLM_HOOK_ENV)
    if not spec:
        return None
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name or "build")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{LLM_HOOK_ENV}={spec!r}: cannot import it ({exc})") from exc
    llm: LLM = factory(settings)
    return llm


def build_agent(
    settings: Settings,
    *,
    llm: LLM | None = None,
    memory: Any = None,
    workspace: Path | str | None = None,
    registry: Any = None,
    profile: str | None = None,
    base_url: str | None = None,
    learn: bool = True,
    tool_groups: tuple[str, ...] | None = None,
) -> Agent:
    """Create and connect everything a run needs.

    ``llm``: a model (else ``$JOURNEYMAN_LLM``, else the profile via ``build_llm``);
    ``memory``: a store, a folder, ``False`` for none, or None for ``settings.memory.path``;
    ``workspace``: the folder the tools work in (default: the current directory);
    ``registry``: a tool registry (default: ``tool_groups``, or all groups; for a profile
    whose context window is at most 16k tokens, the compact set ``COMPACT_TOOLS``);
    ``learn=False`` retrieves from memory but writes nothing.
    """
    profile_name, prof = resolve_profile(settings, profile)
    if llm is None:
        llm = llm_from_hook(settings)
    if llm is None:
        from agent.llm import build_llm

        llm = build_llm(settings, profile_name, base_url=base_url)
    store, path, owns = _open_memory(settings, memory)
    if registry is None:
        from tools import default_registry

        registry = default_registry(enabled=tool_groups or _groups(store))
        if tool_groups is None and prof.context_window <= COMPACT_CONTEXT:
            registry = registry.subset(names=COMPACT_TOOLS)
    ws = Path(workspace).expanduser().resolve() if workspace else Path.cwd()
    return Agent(
        settings=settings,
        llm=llm,
        registry=registry,
        memory=store,
        workspace=ws,
        profile_name=profile_name,
        profile=prof,
        learn=learn,
        memory_path=path,
        _owns_memory=owns,
    )


def _groups(store: Any) -> tuple[str, ...]:
    groups: tuple[str, ...] = ("files", "python", "shell", "browser")  # workspace tools first
    return (*groups, "memory") if store is not None else groups


def _open_memory(settings: Settings, memory: Any) -> tuple[Any, Path | None, bool]:
    if memory is False:
        return None, None, False
    if memory is None or isinstance(memory, str | Path):
        from memory import MemoryStore

        path = Path(memory or settings.memory.path).expanduser()
        return MemoryStore.open(path, settings=settings.memory), path, True
    return memory, getattr(memory, "path", None), False


@contextlib.asynccontextmanager
async def open_agent(
    settings: Settings,
    *,
    profile: str | None = None,
    **options: Any,
) -> AsyncIterator[Agent]:
    """``build_agent`` inside managed mode: a local profile's server runs for the block.

    The agent is entered (one tool context for all runs) and closed at the end. With
    ``llm=`` or ``$JOURNEYMAN_LLM`` no server is started.
    """
    name, prof = resolve_profile(settings, profile)
    if prof.local and options.get("llm") is None and not os.environ.get(LLM_HOOK_ENV):
        from agent.local import amanaged_model

        async with amanaged_model(settings, name) as base_url:
            async with build_agent(settings, profile=name, base_url=base_url, **options) as agent:
                yield agent
    else:
        async with build_agent(settings, profile=name, **options) as agent:
            yield agent
