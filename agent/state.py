"""The graph's state: a TypedDict with reducers, and the typed trajectory records.

The trajectory is append-only: every model reply, tool observation, note and reflection
is one record. Records render themselves to chat messages and round-trip through JSON
(``records_to_json`` / ``records_from_json``); checkpoints store them through
LangGraph's msgpack serializer restricted to the classes listed in ``STATE_TYPES`` (no
pickle).
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field, TypeAdapter

from agent.llm.base import Message, ToolCall, Usage

Outcome = Literal["achieved", "failed", "stopped"]
SubtaskStatus = Literal["pending", "running", "done", "failed"]


class SubtaskState(BaseModel):
    """One subtask of the plan and how it went."""

    index: int = Field(description="Position in the current plan.")
    id: int = Field(default=0, description="Unique across replans; trajectory records use it.")
    goal: str
    done_when: str = ""
    status: SubtaskStatus = "pending"
    attempts: int = 0
    analysis: str = Field(default="", description="The last reflection's analysis (for retry).")
    result: str = ""


class ContextItem(BaseModel):
    """A memory item put into a prompt; its id is kept so its outcome can be credited."""

    id: str
    level: str
    title: str
    text: str
    tool: str | None = None


class _Record(BaseModel):
    subtask: int = -1
    attempt: int = 0

    def to_messages(self) -> list[Message]:
        """The chat messages this record contributes to the executor's conversation."""
        return []


class ModelStep(_Record):
    """One reply of the executor model: text and/or tool calls."""

    kind: Literal["model"] = "model"
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tokens: int = 0

    def to_messages(self) -> list[Message]:
        return [Message.assistant(self.text, self.tool_calls)]


class ToolStep(_Record):
    """One tool action and what it returned (the observation)."""

    kind: Literal["tool"] = "tool"
    call_id: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    output: str = ""
    error: str | None = None
    executed: bool = Field(default=True, description="False when skipped (denied, replayed).")
    inner: list[ToolStep] = Field(
        default_factory=list, description="The steps a skill ran (a skill call only)."
    )

    def observation(self) -> str:
        """The text the model reads."""
        if self.error:
            return f"ERROR: {self.error}" + (f"\n{self.output}" if self.output else "")
        return self.output or "(no output)"

    def to_messages(self) -> list[Message]:
        return [Message.tool(self.observation(), tool_call_id=self.call_id, name=self.tool)]


class NoteStep(_Record):
    """A message from the framework to the executor (re-ask, limit warning). ``info`` notes
    say what code read from the inputs (a skill takes its columns from them); a ``login``
    note repeats the task's login for a sign-in form (agent.logins)."""

    kind: Literal["note"] = "note"
    text: str
    purpose: Literal["reask", "limit", "info", "login"] = "info"

    def to_messages(self) -> list[Message]:
        return [Message.user(self.text)]


class ReflectionStep(_Record):
    """The reflector's verdict on one attempt, with the memory it wrote."""

    kind: Literal["reflection"] = "reflection"
    achieved: bool
    evidence: str = ""
    analysis: str = ""
    written: list[str] = Field(default_factory=list)
    rule: str | None = Field(
        default=None, description="The evidence rule that overruled a verdict of success."
    )
    verified: str = Field(
        default="",
        description="What code verified when it decided the verdict against the model's or a "
        "rule's.",
    )
    model_achieved: bool | None = Field(
        default=None,
        description="The model's own verdict, before rules and checks (None: no model judged).",
    )
    learned: str = Field(default="", description="What the learner made of the attempt.")


def flatten(records: list[Record]) -> list[Record]:
    """Records with each skill call replaced by the steps it ran (what evidence judges)."""
    out: list[Record] = []
    for r in records:
        if isinstance(r, ToolStep) and r.inner:
            out += [
                s.model_copy(update={"subtask": r.subtask, "attempt": r.attempt}) for s in r.inner
            ]
        else:
            out.append(r)
    return out


Record = Annotated[ModelStep | ToolStep | NoteStep | ReflectionStep, Field(discriminator="kind")]
_RECORDS: TypeAdapter[list[Record]] = TypeAdapter(list[Record])


def records_to_json(records: list[Record]) -> list[dict[str, Any]]:
    """Plain JSON values of records (for archives and event streams)."""
    return [r.model_dump(mode="json") for r in records]


def records_from_json(data: list[Any]) -> list[Record]:
    """Records back from JSON values (or from records, which pass through)."""
    return _RECORDS.validate_python(data)


def append_records(left: list[Record] | None, right: list[Any] | None) -> list[Record]:
    """Reducer of the trajectory: append, validating anything that is not yet a record."""
    new = list(right or [])
    if any(not isinstance(r, _Record) for r in new):
        new = records_from_json(new)
    return [*(left or []), *new]


def merge_ids(left: list[str] | None, right: list[str] | None) -> list[str]:
    """Reducer of id lists: union, first-seen order."""
    out = list(left or [])
    seen = set(out)
    for i in right or []:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


class AgentState(TypedDict, total=False):
    """Everything a run needs to continue after a restart."""

    task: str
    episode_id: str
    learn: bool
    plan: list[SubtaskState]
    current: int
    replan: bool
    replans: int
    trajectory: Annotated[list[Record], append_records]
    recalled: list[ContextItem]
    subtask_items: list[ContextItem]
    items_in_context: Annotated[list[str], merge_ids]
    items_written: Annotated[list[str], merge_ids]
    usage: Annotated[Usage, operator.add]
    steps: Annotated[int, operator.add]
    elapsed_s: float
    stop_reason: str | None
    outcome: Outcome | None
    final_answer: str


# Classes the checkpoint serializer may rebuild (everything else stays plain data).
STATE_TYPES: tuple[type[BaseModel], ...] = (
    SubtaskState,
    ContextItem,
    ModelStep,
    ToolStep,
    NoteStep,
    ReflectionStep,
    ToolCall,
    Usage,
)


def attempt_records(state: AgentState, subtask: int, attempt: int) -> list[Record]:
    """The records of one attempt at one subtask (by the subtask's id), in order."""
    return [
        r
        for r in state.get("trajectory", [])
        if r.subtask == subtask and r.attempt == attempt and r.kind != "reflection"
    ]


def current_subtask(state: AgentState) -> SubtaskState | None:
    """The subtask being worked on, or None when the plan is finished."""
    plan = state.get("plan") or []
    i = state.get("current", 0)
    return plan[i] if 0 <= i < len(plan) else None
