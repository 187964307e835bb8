"""journeyman's configuration: one pydantic settings model.

Sources, highest priority first: keyword arguments, ``JOURNEYMAN_*`` environment
variables (nested with ``__``, e.g. ``JOURNEYMAN_LIMITS__MAX_STEPS=40``),
``./journeyman.toml``, then ``$XDG_CONFIG_HOME/journeyman/journeyman.toml``.
``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are honoured by the built-in ``openai`` profile.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from agent.errors import ConfigError
from memory.settings import MemorySettings
from tools.settings import ToolSettings

CONFIG_FILE_NAME = "journeyman.toml"


class ModelProfile(BaseModel):
    """One named way to reach a model."""

    model: str = Field(description="Model id sent to the provider.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible base URL.")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="Name of the environment variable with the key."
    )
    local: bool = Field(default=False, description="Served by `journeyman model serve`.")
    local_model: str | None = Field(default=None, description="Name in the local catalogue.")
    native_tools: bool = True
    json_schema: bool = True
    schema_mode: Literal["openai", "json_object"] = Field(
        default="openai",
        description="How a JSON schema is sent: OpenAI's json_schema response format, or "
        "llama.cpp's {'type': 'json_object', 'schema': ...}.",
    )
    compact_tools: bool = Field(
        default=False,
        description="Without native tool calls: list tools as one typed line each instead of "
        "their JSON schemas (a third of the prompt tokens; use with json_schema).",
    )
    context_window: int = Field(default=128_000, gt=0)
    max_subtasks: int | None = Field(
        default=None,
        ge=1,
        description="Cap on the planner's subtasks: small models over-split tasks, and each "
        "subtask costs at least three model calls. With 1 the task is one subtask and no "
        "planner call is made. None: only limits.max_subtasks applies.",
    )
    price_in_per_mtok: float = Field(default=0.0, ge=0)
    price_out_per_mtok: float = Field(default=0.0, ge=0)
    price_cached_per_mtok: float | None = Field(default=None, ge=0)

    def api_key(self) -> str | None:
        """The key from the environment, or None."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


def _builtin_profiles() -> dict[str, ModelProfile]:
    return {
        "openai": ModelProfile(
            model="gpt-4o-mini",
            base_url=None,
            api_key_env="OPENAI_API_KEY",
            context_window=128_000,
            price_in_per_mtok=0.15,
            price_out_per_mtok=0.60,
            price_cached_per_mtok=0.075,
        ),
        "local": ModelProfile(
            model="qwen2.5-coder-1.5b-instruct",
            api_key_env=None,
            local=True,
            local_model="qwen2.5-coder-1.5b-instruct-q4_k_m",
            native_tools=False,
            json_schema=True,
            schema_mode="json_object",
            compact_tools=True,
            context_window=8192,
            max_subtasks=1,
        ),
        "local-small": ModelProfile(
            model="qwen2.5-coder-0.5b-instruct",
            api_key_env=None,
            local=True,
            local_model="qwen2.5-coder-0.5b-instruct-q4_k_m",
            native_tools=False,
            json_schema=True,
            schema_mode="json_object",
            compact_tools=True,
            context_window=8192,
            max_subtasks=1,
        ),
    }


class RetrySettings(BaseModel):
    """Bounds on retrying transient provider faults."""

    max_attempts: int = Field(default=6, ge=1, le=50)
    initial_wait_s: float = Field(default=0.5, ge=0)
    max_wait_s: float = Field(default=20.0, ge=0, description="Cap of one wait.")
    max_total_wait_s: float = Field(default=60.0, ge=0, description="Cap of all waits summed.")
    timeout_s: float = Field(default=120.0, gt=0, description="Timeout of one HTTP request.")
    structured_reasks: int = Field(default=2, ge=0, le=10)


class LimitSettings(BaseModel):
    """Budgets of one agent run, checked at every step."""

    max_steps_per_subtask: int = Field(default=12, ge=1)
    max_steps: int = Field(default=60, ge=1)
    max_attempts_per_subtask: int = Field(default=2, ge=1)
    max_subtasks: int = Field(default=8, ge=1)
    max_tokens: int = Field(default=400_000, ge=1)
    max_wall_s: float = Field(default=1800.0, gt=0)
    learn_reserve: float = Field(
        default=0.15,
        ge=0,
        lt=1,
        description="Share of max_wall_s kept for reflection and distillation: acting stops "
        "when the rest is spent, so an attempt cut off by the clock is still judged and "
        "learned from.",
    )


class LocalSettings(BaseModel):
    """The embedded local model server."""

    cache_dir: Path = Field(default=Path("~/.cache/journeyman/models"))
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    threads: int | None = None
    n_ctx: int = Field(default=8192, ge=512)
    prompt_cache_mb: int = Field(
        default=0,
        ge=0,
        description="Memory the llama.cpp server may keep of earlier prompts, so a prompt "
        "that shares its head with one before the last is not evaluated again (0: off, the "
        "default: on two cores the state it saves after every reply costs more time than "
        "the prompt tokens it saves; evals/perf/prompt_cache_bench.py).",
    )
    server_command: list[str] = Field(
        default_factory=list,
        description="Replaces the llama.cpp server command; placeholders {model} {alias} "
        "{host} {port} {n_ctx} {threads} {python}.",
    )


class Settings(BaseSettings):
    """The effective configuration of journeyman."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEYMAN_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    model: str | None = Field(
        default=None, description="Profile name; unset means: a configured key, else local."
    )
    profiles: dict[str, ModelProfile] = Field(default_factory=dict)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    approval_tools: list[str] = Field(
        default_factory=list, description="Tools that pause for a person's approval."
    )
    runs_dir: Path = Field(default=Path("~/.local/share/journeyman/runs"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [p for p in config_files() if p.is_file()]
        toml_sources = [TomlConfigSettingsSource(settings_cls, toml_file=p) for p in files]
        return (init_settings, env_settings, *toml_sources)

    def all_profiles(self) -> dict[str, ModelProfile]:
        """Built-in profiles overlaid by configured ones (configured wins)."""
        merged = _builtin_profiles()
        base_url = os.environ.get("OPENAI_BASE_URL")
        if base_url:
            merged["openai"] = merged["openai"].model_copy(update={"base_url": base_url})
        merged.update(self.profiles)
        return merged


def config_files() -> list[Path]:
    """Config files in priority order: the project's, then the user's."""
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return [Path.cwd() / CONFIG_FILE_NAME, Path(xdg) / "journeyman" / CONFIG_FILE_NAME]


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration; raises :class:`ConfigError` with a one-line message."""
    for path in config_files():
        if path.is_file():
            try:
                tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"{path}: malformed TOML ({exc}); fix or remove the file"
                ) from exc
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "configuration"
        raise ConfigError(
            f"invalid configuration at {where}: {first['msg']} "
            f"(see `journeyman config show`; {exc.error_count()} error(s))"
        ) from exc


def resolve_profile(settings: Settings, name: str | None = None) -> tuple[str, ModelProfile]:
    """Pick the profile: explicit name, else configured ``model``, else a remote key, else local."""
    profiles = settings.all_profiles()
    chosen = name or settings.model
    if chosen:
        if chosen not in profiles:
            known = ", ".join(sorted(profiles))
            raise ConfigError(f"unknown model profile {chosen!r}; known profiles: {known}")
        profile = profiles[chosen]
        if not profile.local and profile.api_key_env and not profile.api_key():
            if profile.base_url is None or "api.openai.com" in (profile.base_url or ""):
                raise ConfigError(
                    f"profile {chosen!r} needs an API key: set the environment variable "
                    f"{profile.api_key_env}"
                )
        return chosen, profile
    for pname, profile in profiles.items():
        if not profile.local and profile.api_key_env and profile.api_key():
            return pname, profile
    return "local", profiles["local"]


def mask_secret(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "(not set)"
    return value[:3] + "…" + value[-2:] if len(value) > 10 else "***"
