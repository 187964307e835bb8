"""The fields a goal names that a page keeps folded: a note names the control that shows
them (agent.folded).

Built on the curve's Trac ticket page; the wordings and the page here are others: the
browser test site's ticket page (a script-opened section, a <details>, an aria-controls
button), keywords, a Cc list, a component.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import acted, answer, call

from agent.folded import fill_note, folded_note, option_note, unfold_first
from agent.targets import HELD_BACK

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import PASSWORD, USER

PAGE = """URL: http://127.0.0.1:9/ticket/9
Title: Ticket 9
Interactive elements:
[1] link "All tickets" -> /items
[2] link "Modify Ticket" -> #no3 (click to show 3 hidden field(s): Component:, Priority:, Description: You may us…)
[3] link "More fields" (click to show 1 hidden field(s): Keywords)
[4] button "Cc list" (click to show 1 hidden field(s): Cc)
[5] button "Submit changes"
Page text:
#9 Checkout total  Priority: major  Keywords: Cc:
"""


@pytest.mark.parametrize(
    ("goal", "said"),
    [
        (
            "Move ticket 9 to the infrastructure component.",
            "click [2] ('Modify Ticket') to show 'Component'",
        ),
        (
            "Bump #9's priority to critical and fix its description",
            "to show 'Priority', 'Description'",
        ),
        ("Add the keyword `urgent` to ticket 9", "click [3] ('More fields') to show 'Keywords'"),
        ("Put dana@initech.test on the CC of #9", "click [4] ('Cc list') to show 'Cc'"),
        ("Close ticket 9 as fixed.", None),
        ("Read ticket 9's summary.", None),
        # what an app holds, in the task's list of apps, is not what the goal asks for
        ("Read ticket 9.\nApps:\n- Tracker (keywords, components): http://127.0.0.1:9", None),
    ],
)
def test_the_note_names_the_control_for_the_fields_the_goal_names(
    goal: str, said: str | None
) -> None:
    note = folded_note(goal, PAGE)
    if said is None:
        assert note is None
    else:
        assert note is not None and said in note
    # a page that shows no folded field gets no note
    assert folded_note(goal, PAGE.replace("(click to show", "(shows")) is None


@pytest.mark.parametrize(
    ("goal", "element", "held"),
    [
        # another control than the one that shows the goal's field, the goal not naming it
        ("Move ticket 9 to the infrastructure component.", 1, "click [2] ('Modify Ticket')"),
        ("Add the keyword `urgent` to ticket 9", 5, "click [3] ('More fields')"),
        ("Move ticket 9 to the infrastructure component.", 2, None),  # the control itself
        ("Move ticket 9 to the infrastructure component.", 3, None),  # it unfolds others in place
        ("Move ticket 9 to the infrastructure component and submit changes.", 5, None),  # named
        ("Close ticket 9 as fixed.", 1, None),  # no field of the goal is folded
        ("Move ticket 9 to the infrastructure component.", 77, None),  # not on the page
    ],
)
def test_an_action_elsewhere_while_the_goals_field_is_folded_is_held_back(
    goal: str, element: int, held: str | None
) -> None:
    said = unfold_first(goal, PAGE, "browser_click", {"element_id": element})
    if held is None:
        assert said is None
    else:
        assert said is not None and said.startswith(HELD_BACK) and held in said
    assert unfold_first(goal, PAGE, "browser_read", {}) is None


def _open_ticket(turn: str, said: list[str], base: str) -> Any:
    """The calls that open the site's ticket page and sign in, as the login note says."""
    login = next((t for t in reversed(said) if "sign-in form" in t), "")
    if turn == "goto":
        return call("browser_goto", url=f"{base}/ticket")
    if turn in ("user", "password"):
        field = re.findall(r"into \[(\d+)\]", login)[turn == "password"]
        return call(
            "browser_type", element_id=int(field), text=USER if turn == "user" else PASSWORD
        )
    if turn == "sign in":
        return call("browser_click", element_id=int(re.findall(r"press \[(\d+)\]", login)[0]))
    return None


async def test_a_model_that_follows_the_note_sets_the_folded_field(
    settings: Any, workspace: Path, site: Any
) -> None:
    goal = (
        f"On {site.base}/ticket, move the ticket to the infrastructure component.\n"
        f"App: {site.base} (user `{USER}`, password `{PASSWORD}`)"
    )
    turns = iter(
        ["goto", "user", "password", "sign in", "goto", "astray", "unfold", "select", "send"]
    )
    notes: list[str] = []
    held: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        said = [str(m.content) for m in messages if m.role != "tool"]
        if (opening := _open_ticket(turn, said, site.base)) is not None:
            return opening
        if turn == "astray":  # first a link the goal does not mention: held back, not run
            other = re.search(r'^\[(\d+)\] link "(?!Modify)', seen[-1], re.MULTILINE)
            assert other, seen[-1]
            return call("browser_click", element_id=int(other.group(1)))
        if turn == "unfold":  # only what the note says: which control shows the field
            held.extend(s for s in seen[-1:] if HELD_BACK in s)
            notes.extend(t for t in said if "folded away" in t)
            return call(
                "browser_click", element_id=int(re.findall(r"click \[(\d+)\]", notes[-1])[0])
            )
        if turn == "select":
            box = re.search(r'\[(\d+)\] combobox "Component:?"', seen[-1])
            assert box, seen[-1]
            return call("browser_select", element_id=int(box.group(1)), options=["infrastructure"])
        if turn == "send":
            button = re.search(r'\[(\d+)\] button "Submit changes"', seen[-1])
            assert button, seen[-1]
            return call("browser_click", element_id=int(button.group(1)))
        return answer("moved")

    await acted(settings, workspace, goal, act)
    assert len(notes) == 1 and "'Modify Ticket'" in notes[0] and "'Component'" in notes[0]
    assert len(held) == 1 and "'Modify Ticket') to show 'Component'" in held[0]
    assert site.state.ticket["component"] == "infrastructure"


FORM = """URL: http://127.0.0.1:9/issue/31
Interactive elements:
[40] textbox "Title:" value="Login loops"
[41] combobox "Severity:" value="normal" options: low | normal | High | urgent
[42] combobox "Team" value="web" options: web | data | ops
[43] combobox "Escalate to" options: ops | security [disabled]
[44] combobox "Backup team" value="data" options: web | data | ops
[45] button "Save"
Page text:
Issue 31
"""


@pytest.mark.parametrize(
    ("goal", "calls"),
    [
        # the option as the page spells it
        ("Raise issue 31's severity to `high`.", ['{"element_id": 41, "options": ["High"]}']),
        ("It should be 'urgent'; leave the rest.", ['{"element_id": 41, "options": ["urgent"]}']),
        (
            "Set the severity to 'low' and the title to 'Login loops forever'.",
            ['{"element_id": 41, "options": ["low"]}'],  # the title is no option anywhere
        ),
        ("Change the severity to `normal`.", []),  # it holds that already
        ("Hand it to `security`.", []),  # offered only by a disabled box
        ("Move it to team `ops`.", []),  # two boxes offer it: left to the model
        ("Sign in as 'web' and read issue 31.", []),  # a login, not a value
    ],
)
def test_a_value_the_goal_gives_is_set_in_the_box_that_offers_it(
    goal: str, calls: list[str]
) -> None:
    note = option_note(goal, FORM)
    if not calls:
        assert note is None
        return
    assert note is not None and note.endswith("Then send the form with its submit button.")
    assert [f"browser_select {c}" in note for c in calls] == [True] * len(calls)


async def test_a_model_that_follows_the_notes_sets_the_value_and_sends_it(
    settings: Any, workspace: Path, site: Any
) -> None:
    goal = (
        f"On {site.base}/ticket, change the component to `infrastructure`.\n"
        f"App: {site.base} (user `{USER}`, password `{PASSWORD}`)"
    )
    turns = iter(["goto", "user", "password", "sign in", "goto", "unfold", "select", "send"])

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        said = [str(m.content) for m in messages if m.role != "tool"]
        if (opening := _open_ticket(turn, said, site.base)) is not None:
            return opening
        if turn == "unfold":
            note = next(t for t in reversed(said) if "folded away" in t)
            return call("browser_click", element_id=int(re.findall(r"click \[(\d+)\]", note)[0]))
        if turn == "select":  # the call the note writes out, as it is
            note = next(t for t in reversed(said) if "options of a select box" in t)
            args = re.search(r"browser_select (\{.*?\}) \(", note)
            assert args, note
            return call("browser_select", **json.loads(args.group(1)))
        if turn == "send":
            button = re.search(r'\[(\d+)\] button "Submit changes"', seen[-1])
            assert button, seen[-1]
            return call("browser_click", element_id=int(button.group(1)))
        return answer("changed")

    # the notes a model gets where browser_fill is not offered (else: one fill call, below)
    await acted(settings, workspace, goal, act, without=("browser_fill",))
    assert site.state.ticket["component"] == "infrastructure"


@pytest.mark.parametrize(
    ("goal", "call_json"),
    [
        # a folded field the goal names just before its value (PAGE: the site's ticket page)
        (
            "Set the priority of #9 to `critical`.",
            '{"fields": {"Priority": "critical"}, "submit": "Submit changes"}',
        ),
        # no field of its own for the value: named after it, or not at all
        ("Write `#2` in it. Leave the priority as it is.", None),
        ("Change #9 to `critical`.", None),
    ],
)
def test_one_fill_call_for_a_folded_field_and_its_value(goal: str, call_json: str | None) -> None:
    note = fill_note(goal, PAGE)
    if call_json is None:
        assert note is None
    else:
        assert note is not None and note.endswith(f"browser_fill {call_json}.")


@pytest.mark.parametrize(
    ("goal", "call_json"),
    [
        # another page (FORM: an issue tracker's form, its options visible) and wordings
        (
            "Raise issue 31's severity to `high`.",
            '{"fields": {"Severity": "High"}, "submit": "Save"}',
        ),
        (
            "It should be 'urgent'. Also move it to the `data` team? No: set Team to 'ops'.",
            None,  # 'ops' is offered by two boxes: left to the model, so no one call
        ),
        ("Set the title to 'Login loops forever'.", None),  # a text field: no box offers it
    ],
)
def test_one_fill_call_for_values_of_select_boxes(goal: str, call_json: str | None) -> None:
    note = fill_note(goal, FORM)
    if call_json is None:
        assert note is None
    else:
        assert note is not None and note.endswith(f"browser_fill {call_json}.")


def test_the_fill_note_replaces_the_others_only_where_browser_fill_is_offered() -> None:
    from agent.page_notes import page_notes

    goal = "Set the priority of #9 to `critical`."
    with_fill = [said for _, said in page_notes("", goal, PAGE, fill=True)]
    assert len(with_fill) == 1 and with_fill[0].startswith("One call sets")
    without = [said for _, said in page_notes("", goal, PAGE)]
    assert len(without) == 1 and "folded away" in without[0]


async def test_a_model_that_copies_the_fill_call_sets_the_folded_field(
    settings: Any, workspace: Path, site: Any
) -> None:
    goal = (
        f"On {site.base}/ticket, set the component of the ticket to `infrastructure`.\n"
        f"App: {site.base} (user `{USER}`, password `{PASSWORD}`)"
    )
    turns = iter(["goto", "user", "password", "sign in", "goto", "fill"])
    notes: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        said = [str(m.content) for m in messages if m.role != "tool"]
        if (opening := _open_ticket(turn, said, site.base)) is not None:
            return opening
        if turn == "fill":  # the note's call, as it is written
            notes.extend(t for t in said if t.startswith("One call sets"))
            return call("browser_fill", **json.loads(notes[-1].split("browser_fill ", 1)[1][:-1]))
        return answer("set")

    await acted(settings, workspace, goal, act)
    assert len(notes) == 1 and '"Component": "infrastructure"' in notes[0]
    assert site.state.ticket["component"] == "infrastructure"


async def test_the_run_ends_the_attempt_once_the_form_is_sent(
    settings: Any, workspace: Path, site: Any
) -> None:
    goal = (
        f"On {site.base}/ticket, set the component of the ticket to `infrastructure`.\n"
        f"App: {site.base} (user `{USER}`, password `{PASSWORD}`)"
    )
    turns = iter(["goto", "user", "password", "sign in", "goto", "fill", "astray"])
    asked: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        asked.append(turn)
        said = [str(m.content) for m in messages if m.role != "tool"]
        if (opening := _open_ticket(turn, said, site.base)) is not None:
            return opening
        if turn == "fill":  # the note's call, as it is written
            note = next(t for t in said if t.startswith("One call sets"))
            return call("browser_fill", **json.loads(note.split("browser_fill ", 1)[1][:-1]))
        if turn == "astray":  # what the 1.5B model did next: a click elsewhere
            other = re.search(r'^\[(\d+)\] link "', seen[-1], re.MULTILINE)
            assert other, seen[-1]
            return call("browser_click", element_id=int(other.group(1)))
        return answer("set")

    observed = await acted(settings, workspace, goal, act)
    assert site.state.ticket["component"] == "infrastructure"
    assert asked[-1] == "fill", asked  # the model was not asked again after the form went
    assert observed and observed[-1]["tool"] == "browser_fill"
