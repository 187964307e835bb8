"""The embedded local model: catalogue, verified pull, llama.cpp/vLLM server, managed mode."""

from agent.local.catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    LocalModel,
    PartWheel,
    get_model,
    model_for,
)
from agent.local.errors import LocalModelError, PullError, ServerError
from agent.local.managed import amanaged_model, managed_model
from agent.local.pull import ensure_cache_dir, pull
from agent.local.server import ModelServer, ServerConfig, free_port, port_in_use

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "LocalModel",
    "LocalModelError",
    "ModelServer",
    "PartWheel",
    "PullError",
    "ServerConfig",
    "ServerError",
    "amanaged_model",
    "ensure_cache_dir",
    "free_port",
    "get_model",
    "managed_model",
    "model_for",
    "port_in_use",
    "pull",
]
