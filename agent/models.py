"""What the model must produce, as pydantic models: plans, reflections, memory edits, lessons.

Field descriptions are what the model reads (they go into the JSON schema), so they are
short and concrete. Small local models fill small schemas more reliably: every field has
a default except the ones a reply is useless without.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Subtask(BaseModel):
    """One step of a plan."""

    goal: str = Field(description="What to do, as one imperative sentence.")
    done_when: str = Field(
        default="",
        description="Observable evidence that the goal is reached (a file, a page, a value).",
    )


class Plan(BaseModel):
    """An ordered list of subtasks that together achieve the task."""

    subtasks: list[Subtask] = Field(
        min_length=1, description="Ordered subtasks; as few as the task needs (often 1-3)."
    )


class MemoryEdit(BaseModel):
    """Something worth remembering for later tasks."""

    level: Literal["procedural", "tool", "strategic"] = Field(
        description="procedural: a how-to (SOP); tool: a tip for one tool; strategic: a rule."
    )
    title: str = Field(description="Short, specific title.")
    content: str = Field(description="The steps, tip or rule, reusable in other tasks.")
    when_to_use: str = Field(default="", description="The situation in which it applies.")
    scope: str = Field(
        default="", description="e.g. 'global', 'files/csv', or 'tool/<tool name>' for a tip."
    )


class Check(BaseModel):
    """A read-only tool call the reflector wants run before it judges."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)


def _evidence_required(schema: dict[str, Any]) -> None:
    schema["required"] = ["evidence", *[r for r in schema.get("required", []) if r != "evidence"]]


class Reflection(BaseModel):
    """An independent verdict on one subtask attempt, judged on evidence."""

    # evidence comes before the verdict and the schema requires it: a model whose JSON a
    # grammar writes in schema order quotes what it saw first, then decides on it (with
    # evidence optional, a small model skipped it). Parsing still accepts a reply without it.
    model_config = ConfigDict(json_schema_extra=_evidence_required)

    evidence: str = Field(default="", description="The observation that decides, quoted briefly.")
    achieved: bool = Field(description="True only if the observations show the goal reached.")
    analysis: str = Field(
        default="", description="If not achieved: what went wrong and what to do instead."
    )
    check: Check | None = Field(
        default=None,
        description="Optional read-only tool call to verify before judging (only if unsure).",
    )
    memory: list[MemoryEdit] = Field(
        default_factory=list, description="0-2 reusable lessons from this attempt."
    )


class Lesson(BaseModel):
    """A strategic lesson: in this situation, do this, because."""

    title: str
    content: str = Field(description="What to do, and why.")
    when_to_use: str = Field(default="", description="The situation or dilemma.")
    scope: str = Field(default="global")


class Distillation(BaseModel):
    """Strategic lessons from a whole episode."""

    lessons: list[Lesson] = Field(default_factory=list, description="0-2 lessons.")

    @field_validator("lessons")
    @classmethod
    def _at_most_three(cls, v: list[Lesson]) -> list[Lesson]:
        return v[:3]
