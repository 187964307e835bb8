"""The notes the executor adds after an observation, each from one module that reads the
page (or a command's output) against the task: sign-in forms, folded fields and select
boxes, blank tabs, empty folders, "not found" pages, missing mail commands, messages to
answer. Each note is said once per attempt (agent.executor)."""

from __future__ import annotations

from typing import Literal

from agent.apps import blank_tab_note, empty_folder_note, mailer_note, missing_page_note
from agent.folded import fill_note, folded_note, option_note
from agent.logins import login_note
from agent.mailbox import reply_note


def page_notes(
    task: str, goal: str, seen: str, fill: bool = False
) -> list[tuple[Literal["login", "info"], str]]:
    """Notes on the latest observation: the task's login, for this sign-in form; the goal's
    fields this page keeps folded, and the select boxes that offer its values; the task's web
    addresses, on a blank tab; the app the goal is about, after a listing of an empty folder;
    the address of a file the task names, or the address without the app's name in front, on a
    "not found" page of its app; its SMTP server, after a missing mail command; the message to
    open, and its Reply control, for a reply the goal asks for. With ``fill`` (browser_fill
    is offered), the one call that sets the goal's values and sends the form instead of the
    folded-field and select-box notes, where it can be written out."""
    if not seen:
        return []
    one_call = fill_note(goal, seen) if fill else None  # browser_fill is offered
    found: list[tuple[Literal["login", "info"], str | None]] = [
        ("login", login_note(task, seen)),
        ("info", one_call or folded_note(goal, seen)),
        ("info", None if one_call else option_note(goal, seen)),
        ("info", blank_tab_note(task, seen)),
        ("info", empty_folder_note(task, goal, seen)),
        ("info", missing_page_note(task, seen)),
        ("info", mailer_note(task, seen)),
        ("info", reply_note(goal, seen)),
    ]
    return [(purpose, said) for purpose, said in found if said is not None]
