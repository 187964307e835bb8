"""The value every tool returns: output for the model, an error it can read, artifacts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ToolResult(BaseModel):
    """Outcome of one tool call.

    ``output`` is what the model reads; ``error`` is set when the call failed (the model
    reads that too); ``artifacts`` are workspace-relative paths of files the tool made;
    ``truncated_chars`` counts the characters cut to fit the output budget; ``data`` is a
    structured copy for programs (e.g. the browser's element list), never shown to the model.
    """

    output: str = ""
    error: str | None = None
    artifacts: list[str] = Field(default_factory=list)
    truncated_chars: int = 0
    data: Any = None

    @property
    def ok(self) -> bool:
        """True when the call did not fail."""
        return self.error is None

    def for_model(self) -> str:
        """The text to put into the tool message: the output, then the error if any."""
        parts = [self.output] if self.output else []
        if self.error:
            parts.append(f"ERROR: {self.error}")
        if self.artifacts:
            parts.append("Artifacts: " + ", ".join(self.artifacts))
        return "\n".join(parts) if parts else "(no output)"

    @classmethod
    def fail(cls, error: str, *, output: str = "", data: Any = None) -> ToolResult:
        """A failed call with a message the model can act on."""
        return cls(output=output, error=error, data=data)
