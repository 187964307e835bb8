"""The controls a goal names, checked against what an attempt acted on (the rule
``target_missed`` of agent/evidence.py).

A small model clicks the first of three buttons, or clicks a field and types nothing, and
says it is done. When the goal names what to act on, code can see that the attempt never
did:

- a control named after a verb that acts on it ("Click the 'Publish' button", "press Next",
  "choose Lisbon", "tick 'I agree'"), shown by an observation of the attempt, and no
  executed action on it;
- a text the goal gives to type on a page ("Type the word 'harbor'") never entered, and
  in no field when the attempt acted (a retry may find it typed by the attempt before);
- a control of a numbered row acted on for another number than the goal's ("Approve
  invoice 17", and the click was on "Approve invoice 12");
- a checkbox the goal says to tick ("Tick the boxes Red and Green") last shown unticked, or
  one it says to leave or make unticked ("and not Blue", "untick 'Offers'") last shown
  ticked: a click toggles, so a click on a box that was ticked already unticks it;
- a box the goal does not mention, first shown unticked, ticked by the run and sent so;
- a value the goal gives a field ("change the component to `infrastructure`", "it should be
  'blocker'", "resolve it as `duplicate`") that no action of a browser attempt entered,
  chose, wrote or named.

Each action on an element names it as it was (``[acted on [1] button "Cancel"]``, written by
the browser tools), so the check needs nothing from before the attempt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from agent.logins import APP_LINE
from agent.state import Record, ToolStep
from tools.browser.actions import ACTED_ON

NEGATED = re.compile(
    r"(?i)\b(not|never|no|don't|do not|without|no need to|instead of)\s+(\w+\s+){0,2}$"
)


# A control the goal names: quoted, or one capitalised word, after a verb that acts on it
# ("Click the 'Publish' button", "press Next", "choose Lisbon", "tick 'I agree'").
_ACT = r"\b(?i:click(?:ing)?|press(?:ing)?|tap|hit|push|tick|choose|select|pick)\b"
NAMED_TARGET = re.compile(
    # a quoted name up to three words after the verb ("choose the plan 'Pro'"), or one
    # capitalised word right after it and its fillers ("press Next", "click on Save")
    _ACT
    + r"(?:(?:\s+[\w-]+){0,3}?\s+['\"\u2018\u201c]([^'\"\u2019\u201d\n]{1,60})['\"\u2019\u201d]"
    r"|(?:\s+(?i:on|the|button|checkbox|box|option|link))*\s+([A-Z][\w-]*))"
)
_ELEMENT_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)
FILL_TOOL = "browser_fill"  # tools/browser/forms.py: fields by label, then a button
_ON_ELEMENT = frozenset({"browser_click", "browser_check", "browser_select", "browser_type"})


# Text the goal gives to type into a page: "Type the word 'harbor' into ...", "Enter the
# last name 'Rivera'", "Write the comment 'ship it' in the Comment box".
TYPED_TEXT = re.compile(
    r"\b(?i:type|enter|write|fill in|put)\b[^'\"\u2018\u201c\n]{0,40}"
    r"['\"\u2018\u201c]([^'\"\u2019\u201d\n]{1,80})['\"\u2019\u201d]"
)


# A value the goal gives a field: "... component to `infrastructure`", "it should be
# 'blocker'", "resolve #5 as `duplicate`" (not a login: "sign in as 'sam'"; not an address)
SET_VALUE = re.compile(
    r"\b(?i:to|as|should be|must be)\s+[`'\"\u2018\u201c]([^`'\"\u2019\u201d\n]{1,60})[`'\"\u2019\u201d]"
)
# the sentence's verb changes something ("People are addressed as `<user>@acme.test`" sets
# nothing); "should be" / "must be" say the state wanted by themselves
_CHANGE = re.compile(
    r"(?i)\b(?:set|change|update|make|mark|resolve|close|move|rename|assign|reassign|switch|"
    r"edit|fix|modify|save|upload|put|turn|correct|bump|raise|lower)(?:s|es|ing)?\b"
)
# not a value but its form ("each as `#N`", "`<id>`", "YYYY-MM"), nor a file (the file rules
# judge those)
_PLACEHOLDER = re.compile(r"<\w+>|\b[A-Z]\b|YYYY|\.\.\.|/|\.\w{2,4}$")
_LOGIN_AS = re.compile(r"(?i)\b(?:log(?:ged)?\s*in|sign(?:ed)?\s*in|login)\s+as\s*$")
ReadOnly = Callable[[str], bool]


@cache
def _builtin_read_only() -> frozenset[str]:
    """The built-in tools that only look (the registry's flags): what they were given sets
    nothing. Used when the caller has no registry of its own."""
    from tools import default_registry

    return frozenset(default_registry().subset(read_only=True).names)


def values_to_set(goal: str) -> list[str]:
    """The values the goal gives fields (see SET_VALUE), not those it says not to set."""
    text = APP_LINE.sub(" ", goal)
    out = []
    for m in SET_VALUE.finditer(text):
        before = text[max(0, m.start() - 30) : m.start() + len(m.group(0).split()[0])]
        if NEGATED.search(text[max(0, m.start() - 30) : m.start()]) or _LOGIN_AS.search(before):
            continue
        sentence = re.split(r"[.!?\n]\s", text[: m.start()])[-1]
        wanted = m.group(0).lower().startswith(("should", "must")) or _CHANGE.search(sentence)
        if wanted and not _PLACEHOLDER.search(m.group(1)):
            out.append(m.group(1).strip())
    return list(dict.fromkeys(v for v in out if v))


# A page's search box: what is typed there looks something up and sets no field (the 1.5B
# model typed the component it was to set into Trac's "Search:" box, searched, and said done)
SEARCH_FIELD = re.compile(
    r'^(?:\[\d+\] )?(?:searchbox\b|(?:textbox|combobox) "(?i:search|quick search|find|look up)\b)'
)


def _into_search(step: ToolStep) -> bool:
    said = step.output.split("\n", 1)[0]
    return step.tool == "browser_type" and bool(SEARCH_FIELD.match(said[len(ACTED_ON) :]))


def _value_missed(goal: str, attempt: list[Record], read_only: ReadOnly) -> tuple[str, str] | None:
    """A value the goal gives a field that no executed action of a browser attempt carried
    (typed, chosen, written, in code, a skill's argument) nor acted on by name; a value
    typed into a page's search box sets no field."""
    if not any(isinstance(r, ToolStep) and r.tool.startswith("browser_") for r in attempt):
        return None
    carried = " ".join(
        f"{r.arguments} {r.output.split(chr(10), 1)[0] if r.output.startswith(ACTED_ON) else ''}"
        for r in attempt
        if isinstance(r, ToolStep)
        and r.executed
        and not r.error
        and not read_only(r.tool)
        and not _into_search(r)
    )
    for value in values_to_set(goal):
        if not mentions(carried, value) and not _held(value, attempt):
            return (
                f"the goal gives the value {value!r}, and no action entered or chose it",
                (
                    f"The value {value!r} was never set: put it into the field the goal names "
                    "(browser_select for a select box, browser_type for a text field), then "
                    "send the form."
                ),
            )
    return None


# A sentence part that sets boxes: the verb and what follows it up to "then" or the
# sentence's end ("Tick the checkboxes Red and Green (and not Blue), then press Save").
_TICK_CLAUSE = re.compile(
    r"\b(?i:(un)?(?:tick|check|mark)(?:ing)?|(de|un)?select(?:ing)?|choose|pick|enable|"
    r"(disable|clear)|turn on|switch on|(turn off|switch off))\b"
    r"([^.;!?\n]*?)(?=,?\s+(?i:then|and then|after that)\b|[.;!?\n]|$)"
)
_BOX = re.compile(r'^(?:checkbox|switch|menuitemcheckbox) "([^"]+)"(.*)$')


def _boxes_wanted(goal: str) -> dict[str, bool]:
    """The parts of the goal's sentences that set boxes, each with True when it ticks and
    False when it unticks ("untick", "clear", "turn off")."""
    return {
        m.group(5): not any(m.group(k) for k in (1, 2, 3, 4)) for m in _TICK_CLAUSE.finditer(goal)
    }


def _boxes_when_sent(attempt: list[Record]) -> dict[str, bool]:
    """Each box's state (ticked or not) as last shown when the form was sent: before the
    last press of another control or Enter that came after the last action on a box (a
    page may show a fresh form after saving), or as last shown if nothing was sent."""
    state: dict[str, bool] = {}
    sent: dict[str, bool] | None = None
    for r in attempt:
        if not isinstance(r, ToolStep):
            continue
        if r.executed and not r.error and r.tool.startswith("browser_"):
            said = r.output.split("\n", 1)[0]
            on_box = r.tool == "browser_check" or bool(
                said.startswith(ACTED_ON)
                and re.match(
                    r"\[\d+\] (?:checkbox|switch|menuitemcheckbox) ", said[len(ACTED_ON) :]
                )
            )
            enter = "enter" in str(r.arguments.get("keys", "")).lower() or bool(
                r.arguments.get("submit")
            )
            if on_box:
                sent = None
            elif r.tool == "browser_click" or enter:
                sent = dict(state)
        for m in _ELEMENT_LINE.finditer(r.output):
            box = _BOX.match(m.group(2))
            if box:
                state[box.group(1)] = bool(re.search(r"\[[^\]]*\bchecked\b[^\]]*\]", box.group(2)))
    return state if sent is None else sent


def _first_seen(records: list[Record]) -> dict[str, bool]:
    """Each box's state (ticked or not) as the run first showed it."""
    first: dict[str, bool] = {}
    for r in records:
        if isinstance(r, ToolStep):
            for m in _ELEMENT_LINE.finditer(r.output):
                box = _BOX.match(m.group(2))
                if box and box.group(1) not in first:
                    first[box.group(1)] = bool(
                        re.search(r"\[[^\]]*\bchecked\b[^\]]*\]", box.group(2))
                    )
    return first


def _unasked_tick(
    goal: str, attempt: list[Record], history: list[Record]
) -> tuple[str, str] | None:
    """A box the goal does not mention, first shown unticked, that the run ticked and the
    form was sent with ("Tick 'I agree' and press Continue", and 'Send me offers' was ticked
    too). Only a goal that says what to act on is this specific."""
    if not named_targets(goal) and not _boxes_wanted(goal):
        return None
    run = history or attempt  # the form may have been shown only before this attempt
    first = _first_seen(run)
    for label, ticked in _boxes_when_sent(run).items():
        if ticked and first.get(label) is False and not mentions(goal, label):
            return (
                f"the box {label!r}, which the goal does not mention, was ticked by the run "
                "and sent ticked",
                (
                    f"The box {label!r} was ticked, but the goal does not ask for it: untick it "
                    "(browser_check sets it either way), then do the rest."
                ),
            )
    return None


def _wanted(goal: str, label: str) -> bool | None:
    """Whether the goal wants the box ``label`` ticked (None: it does not set it)."""
    for clause, on in _boxes_wanted(goal).items():
        at = re.search(rf"(?<!\w){re.escape(label)}(?!\w)", clause, re.IGNORECASE)
        if at is not None:
            return on != bool(NEGATED.search(clause[max(0, at.start() - 30) : at.start()]))
    return None


def _box_missed(goal: str, attempt: list[Record]) -> tuple[str, str] | None:
    """A checkbox left in the other state than the goal's (see the module)."""
    for label, ticked in _boxes_when_sent(attempt).items():
        want = _wanted(goal, label)
        if want is not None and want != ticked:
            state, do = ("unticked", "tick") if want else ("ticked", "untick")
            return (
                f"the goal wants {label!r} {'ticked' if want else 'unticked'}, and it was "
                f"{state} when the form was sent",
                (
                    f"The box {label!r} was left {state}: a click toggles a box, so look "
                    f"at its state in the latest observation and {do} it (browser_check "
                    "sets it either way), then do the rest."
                ),
            )
    return None


_QUOTED_NAME = re.compile(r'^(?:\[\d+\] )?\S+ "([^"]*)"')
_URL = re.compile(r"\S+://\S+")


def _sibling_missed(goal: str, shown: list[str], acted: list[str]) -> tuple[str, str] | None:
    """A control of a numbered row acted on for the wrong number: the goal says 17, the
    click was on "Approve invoice 12" while "Approve invoice 17" was shown (the 1.5B model
    took the first of three such buttons)."""
    wanted = set(re.findall(r"\d+", _URL.sub(" ", goal)))
    if not wanted:
        return None

    def named(line: str) -> str:
        m = _QUOTED_NAME.match(line)
        return m.group(1) if m else ""

    def numbers(label: str) -> set[str]:
        return set(re.findall(r"\d+", label))

    done = [named(a) for a in acted if a.startswith("[")]
    for label in (named(ln) for ln in shown):
        if not numbers(label) & wanted:
            continue
        shape = re.sub(r"\d+", "#", label)
        same = [d for d in done if numbers(d) and re.sub(r"\d+", "#", d) == shape]
        if same and not any(numbers(d) & wanted for d in same):
            return (
                f"the action was on {same[-1]!r}, and the goal's {label!r} was shown",
                (
                    f"The action was on {same[-1]!r}, but the goal asks for "
                    f"{', '.join(sorted(numbers(label) & wanted))}: act on {label!r}."
                ),
            )
    return None


# The start of the error of an action held back before it ran (wrong_row): the same call
# sent again right after runs (the model insists; the goal's number may mean something else).
HELD_BACK = "held back, not run: "


def wrong_row(goal: str, observation: str, tool: str, arguments: dict[str, object]) -> str | None:
    """Before an action runs: the error that holds it back when it is on a control of a
    numbered row the goal does not name while the goal's row shows the same control (the
    goal says 17, the click is on "Approve invoice 12" and "Approve invoice 17" is shown).
    A click on the wrong row often cannot be taken back (the page moves on), so it is held
    back once, with the element the goal names, instead of being judged after."""
    if tool not in _ON_ELEMENT or "element_id" not in arguments:
        return None
    wanted = set(re.findall(r"\d+", _URL.sub(" ", goal)))
    if not wanted:
        return None
    lines = {m.group(1): m.group(2) for m in _ELEMENT_LINE.finditer(observation)}
    target = lines.get(str(arguments["element_id"]), "")
    m = _QUOTED_NAME.match(target)
    label = m.group(1) if m else ""
    numbers = set(re.findall(r"\d+", label))
    if not numbers or numbers & wanted:
        return None
    shape = re.sub(r"\d+", "#", target)
    for eid, line in lines.items():
        other = _QUOTED_NAME.match(line)
        hit = set(re.findall(r"\d+", other.group(1))) & wanted if other else set()
        if other and hit and re.sub(r"\d+", "#", line) == shape:
            this = arguments["element_id"]
            return (
                f"{HELD_BACK}[{this}] is {label!r}, and the goal names {', '.join(sorted(hit))}: "
                f"that is [{eid}] {other.group(1)!r}. Act on [{eid}] (send the same call again "
                f"if [{this}] is really meant)."
            )
    return None


def wrong_control(
    goal: str, observation: str, tool: str, arguments: dict[str, object], acted: set[str]
) -> str | None:
    """Before a click runs: the error that holds it back when the goal names the controls
    to act on ("Click the 'Publish' button"), the click is on another control of the same
    role that the goal does not mention at all ("Cancel"), and a control the goal names is
    shown and not acted on yet (``acted``: the element ids the attempt acted on). The 1.5B
    model clicks the first button of a page; the page moves on, and the retry finds only
    "Thank you". Anything the goal mentions may be clicked (a tab, a list, a fold)."""
    if tool != "browser_click" or "element_id" not in arguments:
        return None
    names = named_targets(goal)
    if not names:
        return None
    lines = {m.group(1): m.group(2) for m in _ELEMENT_LINE.finditer(observation)}
    this = str(arguments["element_id"])
    m = _QUOTED_NAME.match(lines.get(this, ""))
    if m is None or not m.group(1).strip() or mentions(goal, m.group(1).strip()):
        return None
    role = lines[this].split(" ", 1)[0]
    if _BOX.match(lines[this]):
        return (
            f"{HELD_BACK}[{this}] is the box {m.group(1)!r}, which the goal does not mention; a "
            f"click ticks or unticks it. The goal names {', '.join(map(repr, names))}. Send the "
            "same call again if it is really meant."
        )
    for eid, line in lines.items():
        other = _QUOTED_NAME.match(line)
        if eid in acted or other is None or line.split(" ", 1)[0] != role:
            continue
        named = next((n for n in names if mentions(other.group(1), n)), None)
        if named is not None:
            return (
                f"{HELD_BACK}[{this}] is {role} {m.group(1)!r}, which the goal does not name; "
                f"it names {named!r}: that is [{eid}] {other.group(1)!r}. Act on [{eid}] (send "
                f"the same call again if [{this}] is really meant)."
            )
    return None


def named_targets(goal: str) -> list[str]:
    """The controls a goal names to act on, in order (not those it says not to touch)."""
    out = []
    for m in NAMED_TARGET.finditer(goal):
        if NEGATED.search(goal[max(0, m.start() - 30) : m.start()]):
            continue
        out.append((m.group(1) or m.group(2)).strip())
    return list(dict.fromkeys(n for n in out if n))


def _chosen(step: ToolStep) -> list[str]:
    """The options a browser_select left chosen: those its element shows as its value
    after the action (asked for three options of a one-choice list, the list keeps one)."""
    asked = [str(o) for o in step.arguments.get("options", [])]
    line = next(
        (m.group(2) for m in _ELEMENT_LINE.finditer(step.output)
         if m.group(1) == str(step.arguments.get("element_id"))),
        "",
    )  # fmt: skip
    value = re.search(r'value="([^"]*)"', line)
    if not asked or value is None:
        return asked
    return [o for o in asked if mentions(value.group(1), o)]


def _page(observation: str) -> tuple[str, str]:
    """The address and the page text of an observation (not its element list, where a
    typed value or the focus changes)."""
    url = next((ln for ln in observation.splitlines() if ln.startswith("URL:")), "")
    return url, observation.split("Page text:", 1)[
        -1
    ].strip() if "Page text:" in observation else ""


def mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _held(text: str, attempt: list[Record]) -> bool:
    """A field already held ``text`` when the attempt acted on the page: typed by an
    earlier attempt of the run, the retry only has to press the button (the 1.5B model
    typed 'harbor' in one attempt and pressed Submit in the next)."""
    want = text.strip().lower()
    shown = ""  # the page as the latest observation before each action showed it
    for r in attempt:
        if not isinstance(r, ToolStep):
            continue
        if r.executed and not r.error and r.tool.startswith("browser_") and shown:
            for m in _ELEMENT_LINE.finditer(shown):
                if SEARCH_FIELD.match(m.group(2)):
                    continue
                value = re.search(r'\bvalue="([^"]*)"', m.group(2))
                if value is not None and want in value.group(1).lower():
                    return True
        shown = r.output or shown
    return False


def missed_target(
    goal: str,
    attempt: list[Record],
    history: list[Record] | None = None,
    read_only: ReadOnly | None = None,
) -> tuple[str, str] | None:
    """``(evidence, analysis)`` when the attempt missed what the goal names to act on (see
    the module), or sent a box the goal does not mention that the run ticked (``history``:
    the run's records up to and with the attempt, for the states the page first showed;
    ``read_only``: the registry's flags, the built-in tools' by default), else None."""
    looks = read_only or (lambda name: name in _builtin_read_only())
    value = _value_missed(goal, attempt, looks)
    if value is not None:
        return value
    names = named_targets(goal)
    if (
        not names
        and not TYPED_TEXT.search(goal)
        and not re.search(r"\d", _URL.sub(" ", goal))
        and not _TICK_CLAUSE.search(goal)
    ):
        return None
    shown: list[str] = []  # element lines of the attempt's observations
    acted: list[str] = []  # what each executed, non-failed action was on
    submitted = False
    for i, r in enumerate(attempt):
        if not isinstance(r, ToolStep):
            continue
        shown += [m.group(2) for m in _ELEMENT_LINE.finditer(r.output)]
        if not r.executed or r.error:
            continue
        enter = (
            r.tool == "browser_press" and "enter" in str(r.arguments.get("keys", "")).lower()
        ) or (r.tool == "browser_type" and bool(r.arguments.get("submit")))
        if enter:
            # Enter presses a form's button only when the page answered it (its text or
            # address changed): a field outside a form takes the key and nothing happens
            before = next((e.output for e in reversed(attempt[:i]) if isinstance(e, ToolStep)), "")
            submitted |= bool(before) and _page(r.output) != _page(before)
        if r.tool == FILL_TOOL:  # fields by label: its values, and the button it pressed
            fields = r.arguments.get("fields")
            acted += [str(v) for v in fields.values()] if isinstance(fields, dict) else []
            said = r.output.split("\n", 1)[0]
            if said.startswith(ACTED_ON):
                acted.append(said[len(ACTED_ON) :].rstrip("]"))
            continue
        if r.tool not in _ON_ELEMENT or "element_id" not in r.arguments:
            continue
        acted += _chosen(r)
        wanted = f"[{r.arguments['element_id']}] "
        said = r.output.split("\n", 1)[0]
        if said.startswith(ACTED_ON):  # the action named its element itself
            acted.append(said[len(ACTED_ON) :].rstrip("]"))
            continue
        for earlier in reversed(attempt[:i]):  # the element as last shown before the action
            if isinstance(earlier, ToolStep):
                line = next(
                    (ln for ln in earlier.output.splitlines() if ln.startswith(wanted)), None
                )
                if line is not None:  # the element itself, not every option it offers
                    acted.append(line.split(" options: ", 1)[0])
                    break
    typed = [
        str(r.arguments.get("text", "")) if r.tool == "browser_type" else str(r.arguments)
        for r in attempt
        if isinstance(r, ToolStep)
        and r.tool in ("browser_type", FILL_TOOL)
        and r.executed
        and not r.error
    ]
    on_page = any(isinstance(r, ToolStep) and r.tool.startswith("browser_") for r in attempt)
    for text in (m.group(1) for m in TYPED_TEXT.finditer(goal)) if on_page else ():
        if not any(text.strip().lower() in t.lower() for t in typed) and not _held(text, attempt):
            return (
                f"the goal gives the text {text!r} to enter, and no browser_type entered it",
                (
                    f"The text {text!r} was never typed: enter it with browser_type into the field "
                    "the goal names, then do the rest."
                ),
            )
    sibling = _sibling_missed(goal, shown, acted)
    if sibling is not None:
        return sibling
    sent = _boxes_when_sent(history) if history else {}
    for name in names:
        lines = [ln for ln in shown if mentions(ln, name)]
        if not lines or any(mentions(a, name) for a in acted):
            continue  # not a control the attempt saw, or acted on
        if name in sent and sent[name] == _wanted(goal, name):
            continue  # a box an earlier attempt set as the goal wants, sent so by this one
        if submitted and all(ln.split(" ", 1)[0] == "button" for ln in lines):
            continue  # a form sent with Enter presses its button too
        done = ", ".join(dict.fromkeys(a for a in acted if not a.startswith("["))) or "none"
        on = "; ".join(dict.fromkeys(a for a in acted if a.startswith("["))) or "nothing"
        return (
            f"the goal names {name!r}, shown as {lines[-1]!r}, and no action was on it",
            (
                f"The goal names {name!r}, but the actions were on {on}"
                f"{'' if done == 'none' else f' (options chosen: {done})'}. Act on the element "
                f"labelled {name!r} (its id is in the latest observation)."
            ),
        )
    # boxes as the form was sent: the run's records, since a retry may only press the button
    # on boxes an attempt before set (or never set: the 1.5B model pressed Save alone)
    return _box_missed(goal, history or attempt) or _unasked_tick(goal, attempt, history or [])
