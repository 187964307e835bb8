"""build_llm: one place where a profile name becomes a client."""

from __future__ import annotations

import pytest

from agent.config import ModelProfile, Settings
from agent.errors import ConfigError
from agent.llm import LLM, OpenAIClient, build_llm


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "JOURNEYMAN_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_default_without_key_is_the_local_server() -> None:
    settings = Settings(local={"host": "127.0.0.1", "port": 9999})
    llm = build_llm(settings)
    assert isinstance(llm, OpenAIClient) and isinstance(llm, LLM)
    assert llm.profile_name == "local" and llm.url == "http://127.0.0.1:9999/v1"
    assert llm.profile.schema_mode == "json_object" and not llm.profile.native_tools
    assert llm.retry == settings.retry


def test_named_profile_base_url_override_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123456789")
    llm = build_llm(Settings(), "openai", base_url="http://127.0.0.1:1/v1")
    assert llm.profile_name == "openai" and llm.url == "http://127.0.0.1:1/v1"
    assert llm.name == "openai:gpt-4o-mini"
    custom = ModelProfile(model="x", base_url="http://h/v1", api_key_env=None)
    assert build_llm(Settings(), custom).url == "http://h/v1"


def test_bad_profiles_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown model profile 'nope'"):
        build_llm(Settings(), "nope")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_llm(Settings(), "openai")
