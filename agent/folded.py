"""A field the goal names, folded away on the page: the note says which control shows it.

Trac keeps a ticket's fields (Priority, Component, the resolve action) under a "Modify
Ticket" link that opens them in place. The browser lists such a link with the fields it
hides ("[28] link "Modify Ticket" (click to show 14 hidden field(s): Summary:, Priority:,
Component:, ...)"), yet the 1.5B model, asked to change a ticket's priority, clicked the
timeline, or wrote Python against Trac, in every attempt of the curve's ticket family. When
the goal names a field that an observation lists as hidden, the executor adds a note naming
the control to click first; an action on another control the goal does not mention is
held back once, naming that control (:func:`unfold_first`).

Once the fields show, the model still has to set them: with Trac's Priority box open (its
options listed, "blocker" among them), the 1.5B model typed "blocker" into the Summary and
sent it. When a value the goal gives a field is an option of a select box on the page that
does not hold it yet, a note puts the call in front of it (:func:`option_note`).
"""

from __future__ import annotations

import json
import re

from agent.logins import APP_LINE
from agent.targets import HELD_BACK, values_to_set

_FOLD = re.compile(
    r'^\[(\d+)\] \w+ "([^"]*)".*\(click to show \d+ hidden field\(s\): (.*)\)$', re.MULTILINE
)
_WORD = re.compile(r"[A-Za-z]+")
_SELECT = re.compile(
    r'^\[(\d+)\] (?:combobox|listbox) "([^"]*)"(?: value="([^"]*)")? options: (.*?)(\s\[[^\]]*\])?$',
    re.MULTILINE,
)


def _stem(word: str) -> str:
    """ "Keywords" and "keyword", "Priority" and "priority" are one word here."""
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _field(name: str) -> str:
    """A hidden field's name as the browser lists it ("Priority:", "Description: You may
    us…"), cut to its label."""
    return name.split(":", 1)[0].strip()


def _folds(goal: str, observation: str) -> list[tuple[str, str, str]]:
    """``(element id, control name, the goal's fields it shows)`` of each control on the
    page that shows fields the goal names."""
    asked = APP_LINE.sub(" ", goal)  # what an app holds is not what the goal asks for
    words = {_stem(w) for w in _WORD.findall(asked)}
    out = []
    for m in _FOLD.finditer(observation.split("\nPage text:", 1)[0]):
        named = []
        for raw in m.group(3).split(", "):
            field = _field(raw)
            parts = [_stem(w) for w in _WORD.findall(field)]
            if field and field != "..." and parts and all(p in words for p in parts):
                named.append(field)
        if named:
            out.append((m.group(1), m.group(2), ", ".join(repr(f) for f in dict.fromkeys(named))))
    return out


def folded_note(goal: str, observation: str) -> str | None:
    """The note for the fields the goal names that the page shows folded, else None."""
    notes = [
        f"click [{e}] ({name!r}) to show {fields}" for e, name, fields in _folds(goal, observation)
    ]
    if not notes:
        return None
    return (
        "The goal names field(s) this page keeps folded away, not yet on the page to act on: "
        + "; ".join(notes)
        + ". Then set them and send the form."
    )


def unfold_first(
    goal: str, observation: str, tool: str, arguments: dict[str, object]
) -> str | None:
    """Before an action on an element runs: the error that holds it back when the page
    keeps fields the goal names folded and the action is on another control, one the goal
    does not mention (the 1.5B model, told to click 'Modify Ticket', clicked '5 weeks ago'
    and lost the ticket page). Held back once: the same call sent again runs."""
    if not tool.startswith("browser_") or "element_id" not in arguments:
        return None
    folds = _folds(goal, observation)
    this = str(arguments["element_id"])
    if not folds or any(m.group(1) == this for m in _FOLD.finditer(observation)):
        return None  # a control that unfolds fields in place: harmless
    shown = re.search(rf'^\[{re.escape(this)}\] (\w+) "([^"]*)"', observation, re.MULTILINE)
    if shown is None:
        return None  # an id the page does not show: the browser's own error says so
    words = {_stem(w) for w in _WORD.findall(APP_LINE.sub(" ", goal))}
    name = [_stem(w) for w in _WORD.findall(shown.group(2))]
    if name and all(w in words for w in name):
        return None  # a control the goal mentions
    first = "; ".join(f"click [{e}] ({n!r}) to show {fields}" for e, n, fields in folds)
    return (
        f"{HELD_BACK}[{this}] is {shown.group(1)} {shown.group(2)!r}, and the goal's fields are "
        f"folded on this page: {first} first, then set them (send the same call again if "
        f"[{this}] is really meant)."
    )


def option_note(goal: str, observation: str) -> str | None:
    """The calls that set a value the goal gives to the select box on this page that offers
    it as an option and does not hold it yet (one box per value: a value two boxes offer is
    left to the model), else None."""
    listing = observation.split("\nPage text:", 1)[0]
    boxes = [m for m in _SELECT.finditer(listing) if "disabled" not in (m.group(5) or "")]
    calls = []
    for value in values_to_set(goal):
        key = value.strip().casefold()
        offering = [
            m for m in boxes if key in {o.strip().casefold() for o in m.group(4).split(" | ")}
        ]
        if len(offering) != 1 or (offering[0].group(3) or "").strip().casefold() == key:
            continue
        box = offering[0]
        label = box.group(2).rstrip(":") or "the select box"
        option = next(o.strip() for o in box.group(4).split(" | ") if o.strip().casefold() == key)
        calls.append(
            f"browser_select {json.dumps({'element_id': int(box.group(1)), 'options': [option]})} "
            f"({label} is now {box.group(3) or 'empty'!r})"
        )
    if not calls:
        return None
    return (
        "The goal's value(s) are options of a select box on this page: set "
        + "; ".join(calls)
        + ". Then send the form with its submit button."
    )


_SUBMIT = re.compile(
    r'^\[\d+\] button "((?i:submit|save|update|apply|create|send)\b[^"]*)"(?!.*\bdisabled\b)',
    re.MULTILINE,
)


def fill_note(goal: str, observation: str) -> str | None:
    """The one ``browser_fill`` call that sets the values the goal gives (each to the select
    box on the page that offers it, or to the one folded field the goal names) and presses
    the form's submit button, else None (a value with no field of its own is left to the
    model)."""
    listing = observation.split("\nPage text:", 1)[0]
    values = values_to_set(goal)
    if not values:
        return None
    boxes = [m for m in _SELECT.finditer(listing) if "disabled" not in (m.group(5) or "")]
    fields: dict[str, str] = {}
    left = []
    for value in values:
        key = value.strip().casefold()
        offering = [
            m for m in boxes if key in {o.strip().casefold() for o in m.group(4).split(" | ")}
        ]
        if len(offering) == 1 and offering[0].group(2).rstrip(":"):
            options = offering[0].group(4).split(" | ")
            fields[offering[0].group(2).rstrip(":")] = next(
                o.strip() for o in options if o.strip().casefold() == key
            )  # as the page spells it
        else:
            left.append(value)
    folded = [f.strip("'") for _, _, named in _folds(goal, observation) for f in named.split(", ")]
    folded = [f for f in dict.fromkeys(folded) if f not in fields]
    if len(left) == 1 and len(folded) == 1 and _names_before(goal, folded[0], left[0]):
        fields[folded[0]] = left.pop()
    if left or not fields:
        return None
    submit = _SUBMIT.search(listing)
    call = {"fields": fields, **({"submit": submit.group(1)} if submit else {})}
    return (
        f"One call sets the goal's value(s) and sends the form: browser_fill {json.dumps(call)}"
        + ("" if submit else " (then press the form's submit button)")
        + "."
    )


def _names_before(goal: str, field: str, value: str) -> bool:
    """The goal names ``field`` shortly before ``value`` ("the component of ticket #3 to
    `infrastructure`", "the wrong priority: it should be `blocker`"), not after it ("write
    it as `#2`. Leave #2 as it is": Leave is no field of that value)."""
    low = goal.casefold()
    at = low.find(value.casefold())
    name = low.rfind(field.casefold().rstrip(":"), 0, max(at, 0))
    return at > 0 and name >= 0 and at - name <= 60
