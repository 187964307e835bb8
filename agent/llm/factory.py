"""The one place a profile name becomes a model client."""

from __future__ import annotations

from agent.config import ModelProfile, Settings, resolve_profile
from agent.llm.openai_client import OpenAIClient


def local_base_url(settings: Settings) -> str:
    """Where `journeyman model serve` listens."""
    return f"http://{settings.local.host}:{settings.local.port}/v1"


def build_llm(
    settings: Settings,
    profile: str | ModelProfile | None = None,
    *,
    base_url: str | None = None,
) -> OpenAIClient:
    """A client for ``profile`` (a name, a profile, or None for the configured default).

    Raises :class:`~agent.errors.ConfigError` for an unknown profile or a missing key.
    Local profiles without a base URL point at the local server of ``settings.local``.
    """
    if isinstance(profile, ModelProfile):
        name, chosen = profile.model, profile
    else:
        name, chosen = resolve_profile(settings, profile)
    url = base_url or chosen.base_url
    if url is None and chosen.local:
        url = local_base_url(settings)
    return OpenAIClient(chosen, retry=settings.retry, base_url=url, profile_name=name)
