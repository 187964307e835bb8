"""Model clients: one protocol (:class:`LLM`), one module per backend."""

from agent.llm.base import LLM, Completion, Message, ToolCall, ToolSpec, Usage
from agent.llm.factory import build_llm
from agent.llm.openai_client import OpenAIClient
from agent.llm.parsing import (
    ParsedAction,
    ReplyParseError,
    extract_json,
    parse_action,
    parse_structured,
    strip_reasoning,
)
from agent.llm.retrying import RetryStats
from agent.llm.scripted import FunctionLLM, ModelCall, ScriptedLLM
from agent.llm.usage import MeteredLLM, UsageMeter, cost_usd

__all__ = [
    "LLM",
    "Completion",
    "FunctionLLM",
    "Message",
    "MeteredLLM",
    "ModelCall",
    "OpenAIClient",
    "ParsedAction",
    "ReplyParseError",
    "RetryStats",
    "ScriptedLLM",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "UsageMeter",
    "build_llm",
    "cost_usd",
    "extract_json",
    "parse_action",
    "parse_structured",
    "strip_reasoning",
]
