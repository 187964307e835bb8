"""A form sent with every value the goal quotes ends the attempt (agent.form_done).

Built on the probe's Trac ticket pages (a component set by one ``browser_fill``, then a
dozen clicks to the time limit); the wordings and pages here are others: an issue tracker's
status and severity, a CRM's deal stage, a duplicate with its comment, a button the goal
names (end to end on the browser test site: tests/agent/test_folded.py).
"""

from __future__ import annotations

import pytest

from agent.form_done import ENDED, form_done, quoted_values
from agent.state import Record, ToolStep

AFTER = """[acted on [12] button "{button}"]
[filled: {filled}]
URL: http://127.0.0.1:9/issue/31
Interactive elements:
[1] link "All issues" -> /issues
[12] button "{button}"
Page text:
Issue 31 updated.
"""


def fill(fields: dict[str, str], submit: str = "Save", error: str | None = None) -> ToolStep:
    filled = "; ".join(f"{k!r} = {v!r}" for k, v in fields.items())
    return ToolStep(
        subtask=1,
        attempt=0,
        call_id="c",
        tool="browser_fill",
        arguments={"fields": fields, "submit": submit} if submit else {"fields": fields},
        output="" if error else AFTER.format(button=submit or "Save", filled=filled),
        error=error,
    )


OPENED = ToolStep(
    subtask=1,
    attempt=0,
    call_id="g",
    tool="browser_goto",
    arguments={"url": "http://127.0.0.1:9/issue/31"},
    output='URL: http://127.0.0.1:9/issue/31\nInteractive elements:\n[12] button "Save"\n'
    '[13] button "Publish"\nPage text:\nIssue 31',
)


def ended(goal: str, *steps: ToolStep) -> str | None:
    attempt: list[Record] = [OPENED, *steps]
    return form_done(
        goal, attempt, read_only=lambda n: n in ("browser_goto", "browser_observe"), history=[]
    )


@pytest.mark.parametrize(
    ("goal", "fields", "submit"),
    [
        ("Mark issue 31 as `resolved` in the tracker.", {"Status": "resolved"}, "Save"),
        ("The Initech deal should be 'Won'. Update it.", {"Stage": "Won"}, "Update deal"),
        (
            "Resolve #31 as `duplicate`, with a comment pointing to `#12`.",
            {"Resolution": "duplicate", "Comment": "Duplicate of #12"},
            "Submit changes",
        ),
        ("Raise issue 31's severity to \u201curgent\u201d.", {"severity": "Urgent"}, "Save"),
        ("Set the severity to `low` and press 'Publish'.", {"Severity": "low"}, "Publish"),
    ],
)
def test_a_form_sent_with_every_quoted_value_ends_the_attempt(
    goal: str, fields: dict[str, str], submit: str
) -> None:
    said = ended(goal, fill(fields, submit))
    assert said is not None and said.endswith(f"{ENDED}.") and repr(submit) in said


@pytest.mark.parametrize(
    ("goal", "steps"),
    [
        # the comment the goal asks for was not written
        (
            "Resolve #31 as `duplicate`, with a comment pointing to `#12`.",
            [fill({"Resolution": "duplicate"}, "Submit changes")],
        ),
        # nothing pressed, or the fill failed
        ("Mark issue 31 as `resolved`.", [fill({"Status": "resolved"}, "")]),
        ("Mark issue 31 as `resolved`.", [fill({"Status": "resolved"}, error="no field")]),
        # another value than the goal's
        ("Mark issue 31 as `resolved`.", [fill({"Status": "reopened"})]),
        # the button the goal names is another than the one pressed
        ("Set the severity to `low` and press 'Publish'.", [fill({"Severity": "low"}, "Save")]),
        # a mail is asked for too
        (
            "Set the severity of issue 31 to `high` and reply to Dana's mail to say so.",
            [fill({"Severity": "high"})],
        ),
        # a file is asked for too
        (
            "Set the status to `closed` and list the open issues in `open.csv`.",
            [fill({"Status": "closed"})],
        ),
        # the goal quotes nothing: left to the model
        ("Move ticket 31 to the infrastructure component.", [fill({"Component": "infra"})]),
    ],
)
def test_a_form_short_of_the_goal_goes_back_to_the_model(goal: str, steps: list[ToolStep]) -> None:
    assert ended(goal, *steps) is None


def test_only_the_fill_just_made_ends_the_attempt() -> None:
    later = ToolStep(subtask=1, attempt=0, call_id="k", tool="browser_click", arguments={})
    assert ended("Mark issue 31 as `resolved`.", fill({"Status": "resolved"}), later) is None


def test_what_a_goal_quotes() -> None:
    goal = (
        "Please change ticket #5's priority in Trac to `minor`; ask 'ops' or "
        '"Dana" at `dana@acme.test`, see `http://127.0.0.1:8000/x` and `<user>`.\n'
        "Apps:\n- Trac: http://127.0.0.1:8000 (user `sam`)\n"
        "CRM at http://127.0.0.1:8001, login `kim`, password `h4rd`"
    )
    assert quoted_values(goal) == ["minor", "ops", "Dana"]
    # who the task speaks for is no value; a field given by its label is
    said = "You are Jo Park (`jpark`, jo@initech.test). Log a bug. Component: `qa`."
    assert quoted_values(said) == ["qa"]


def test_a_skill_whose_last_step_sends_the_form_ends_the_attempt() -> None:
    goal = "Mark issue 31 as `resolved` in the tracker."
    skill = ToolStep(
        subtask=1,
        attempt=0,
        call_id="s",
        tool="skill_close_issue",
        arguments={"status": "resolved"},
        output="step 1: ok",
        inner=[fill({"Status": "resolved"})],
    )
    assert ended(goal, skill) is not None
    failed = skill.model_copy(update={"inner": [fill({"Status": "resolved"}, error="no field")]})
    assert ended(goal, failed) is None
