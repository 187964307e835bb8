"""Default profile resolution: explicit choice, else a remote key, else the local default model."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Settings, resolve_profile
from agent.local.catalogue import CATALOGUE, DEFAULT_MODEL, model_for
from agent.local.errors import LocalModelError


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "JOURNEYMAN_MODEL"):
        monkeypatch.delenv(key, raising=False)


def test_no_key_means_the_local_default_model() -> None:
    name, profile = resolve_profile(Settings())
    assert name == "local"
    assert profile.local and profile.local_model == DEFAULT_MODEL
    assert model_for(None, Settings().all_profiles()) is CATALOGUE[DEFAULT_MODEL]


def test_a_remote_key_wins_over_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert resolve_profile(Settings())[0] == "openai"


def test_an_explicit_profile_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert resolve_profile(Settings(), "local-small")[0] == "local-small"
    assert resolve_profile(Settings(model="local-small"))[0] == "local-small"


def test_builtin_local_profiles_name_catalogue_models() -> None:
    for profile in Settings().all_profiles().values():
        if profile.local:
            assert profile.local_model in CATALOGUE


def test_model_names_and_profile_names_both_resolve() -> None:
    profiles = Settings().all_profiles()
    small = CATALOGUE["qwen2.5-coder-0.5b-instruct-q4_k_m"]
    assert model_for("local-small", profiles) is small
    assert model_for(small.name, profiles) is small
    with pytest.raises(LocalModelError, match="not a local model profile"):
        model_for("openai", profiles)
    with pytest.raises(LocalModelError, match="unknown local model"):
        model_for("nope", profiles)


def test_managed_mode_with_a_remote_profile_starts_nothing() -> None:
    from agent.config import ModelProfile
    from agent.local.managed import managed_model

    remote = ModelProfile(model="m", base_url="http://127.0.0.1:9/v1")
    with managed_model(Settings(), remote) as base_url:
        assert base_url == "http://127.0.0.1:9/v1"


async def test_async_managed_mode_with_a_remote_profile_starts_nothing() -> None:
    from agent.config import ModelProfile
    from agent.local.managed import amanaged_model

    async with amanaged_model(Settings(), ModelProfile(model="m", base_url=None)) as base_url:
        assert base_url is None
