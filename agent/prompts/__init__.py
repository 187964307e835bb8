"""The prompts, one file per role: a static system part, then the user template.

Each ``<role>.md`` holds the system prompt, a line ``=== user ===``, and a template with
``{name}`` fields. The system part never changes within a run, so a server's prompt cache
reuses it; everything task-specific goes into the user message.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from agent.llm.base import Message

ROLES = ("planner", "executor", "reflector", "distiller")
_SEPARATOR = "=== user ==="


@cache
def _load(role: str) -> tuple[str, str]:
    if role not in ROLES:
        raise ValueError(f"unknown prompt role {role!r}")
    text = resources.files(__package__).joinpath(f"{role}.md").read_text(encoding="utf-8")
    system, _, user = text.partition(_SEPARATOR)
    return system.strip(), user.strip("\n")


def system_prompt(role: str) -> str:
    """The static system prompt of a role."""
    return _load(role)[0]


def render(role: str, **fields: str) -> list[Message]:
    """The system and user messages of a role, with the user template filled in."""
    system, template = _load(role)
    user = template.format_map(fields)
    return [Message.system(system), Message.user(_squeeze(user))]


def _squeeze(text: str) -> str:
    # empty optional sections leave blank lines; drop runs of them and trailing space
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
