"""A form sent with everything the goal gives: the attempt ends there and is judged.

With ``browser_fill`` the 1.5B model set a Trac ticket's component and pressed "Submit
changes" in one call, then kept clicking about the ticket until the time limit (both
attempts of the probe on fresh instances): the task was done, yet the run went on to its
time limit, each further click could have undone it, and the attempt judged was a dozen
actions rather than the one that did the work.

Code can see when the form holds everything: the last action was a ``browser_fill`` that
pressed a button and worked, every value the goal quotes (`` `infrastructure` ``,
'Won', "#12", a button's name) is among what this attempt's fills entered or pressed,
the goal asks for no mail, and no evidence rule a verdict of success would break is
broken (a named button never pressed, an output file missing, ...). Then the executor
does not ask the model again: a note ends the attempt, and the reflector judges it as any
other.

A goal that quotes something no fill carried (a ticket named by its title, a comment's
text), or quotes nothing, is left to the model: ending early there could cut work short.
"""

from __future__ import annotations

import re
from pathlib import Path

from agent.evidence import broken_rule, outputs_of
from agent.logins import APP_LINE, line_login
from agent.sent import asks_to_reply, asks_to_send_mail
from agent.state import Record, ToolStep, flatten
from agent.targets import FILL_TOOL, ReadOnly, mentions
from tools.registry import ToolRegistry

# Backticks, double or typographic quotes, and single quotes that open a word and close one
# ("#5's priority" opens nothing).
_QUOTED = re.compile(
    r"`([^`\n]{1,80})`|\"([^\"\n]{1,80})\"|[\u2018\u201c]([^\u2019\u201d\n]{1,80})[\u2019\u201d]"
    r"|(?<![\w'])'([^'\n]{1,80})'(?![\w'])"
)
# an address, a path or a placeholder is no field's value
_NOT_A_VALUE = re.compile(r"://|@|^/|<\w+>|\.\.\.")
# a sentence that orders: a verb that changes, acts on a control or enters text, or the
# state wanted ("it should be 'Won'")
_ORDER = re.compile(
    r"(?i)\b(?:set|change|update|make|mark|resolve|close|reopen|move|rename|assign|switch|edit|"
    r"fix|modify|save|put|turn|correct|bump|raise|lower|click|press|tap|hit|push|tick|check|"
    r"choose|select|pick|type|enter|write|fill|add|create|comment|submit|approve|reject|"
    r"should be|must be)(?:s|es|d|ed|ing)?\b"
)
_LABELLED = re.compile(r"\b\w+:\s*$")  # "Component: `qa`"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")
ENDED = "this attempt ends here and is judged"


def quoted_values(goal: str) -> list[str]:
    """What the goal's orders quote: in a sentence with a verb that acts or changes, or as
    a field's value ("Component: `qa`"); not its app lines, logins, addresses, paths and
    placeholders, nor what a sentence that orders nothing quotes ("You are Alex Kim
    (`alex`, ...)")."""
    text = APP_LINE.sub(" ", goal)
    logins = {x for line in text.splitlines() for x in line_login(line) or ()}
    found = []
    for sentence in _SENTENCE.split(text):
        orders = _ORDER.search(sentence) is not None
        for m in _QUOTED.finditer(sentence):
            value = next(g for g in m.groups() if g is not None).strip()
            if orders or _LABELLED.search(sentence[: m.start()]):
                found.append(value)
    return list(
        dict.fromkeys(v for v in found if v and v not in logins and not _NOT_A_VALUE.search(v))
    )


def _carried(step: ToolStep) -> list[str]:
    """The values a fill entered, and the button it pressed."""
    fields = step.arguments.get("fields")
    values = [str(v) for v in fields.values()] if isinstance(fields, dict) else []
    return [*values, str(step.arguments.get("submit") or "")]


def form_done(
    goal: str,
    attempt: list[Record],
    *,
    read_only: ReadOnly,
    task: str = "",
    history: list[Record] | None = None,
    done_when: str = "",
    registry: ToolRegistry | None = None,
    workspace: Path | None = None,
) -> str | None:
    """The note that ends ``attempt`` when its last action (or a skill's last step) sent a
    form with every value ``goal`` quotes and no evidence rule objects; None otherwise.
    ``history`` is the run's records so far: with ``registry``, the files the run wrote are
    read from it, and only once the form is known sent (this runs before every step)."""
    attempt = flatten(attempt)  # a skill that fills the form: the steps it ran
    last = attempt[-1] if attempt else None
    if not (
        isinstance(last, ToolStep)
        and last.tool == FILL_TOOL
        and last.executed
        and not last.error
        and str(last.arguments.get("submit") or "").strip()
    ):
        return None
    wanted = quoted_values(goal)
    if not wanted or asks_to_send_mail(goal) or asks_to_reply(goal):
        return None
    # a field's value, a word of a text typed into one ("Duplicate of #12"), a button
    carried = "\n".join(
        v
        for r in attempt
        if isinstance(r, ToolStep) and r.tool == FILL_TOOL and r.executed and not r.error
        for v in _carried(r)
    )
    if not all(mentions(carried, v) for v in wanted):
        return None
    broken = broken_rule(
        goal,
        attempt,
        read_only=read_only,
        done_when=done_when,
        outputs=outputs_of(history or [], registry) if registry is not None else None,
        workspace=workspace,
        history=history,
        task=task,
    )
    if broken is not None:
        return None
    shown = ", ".join(repr(v) for v in wanted)
    button = str(last.arguments["submit"]).strip()
    return f"The form was sent ({button!r}) with every value the goal gives ({shown}): {ENDED}."
