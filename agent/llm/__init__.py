"""Model clients: one protocol (:class:`LLM`), one module per backend."""

from agent.llm.base import LLM, Completion, Message, ToolCall, ToolSpec, Usage

__all__ = ["LLM", "Completion", "Message", "ToolCall", "ToolSpec", "Usage"]
