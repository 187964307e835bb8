"""A goal about a web app of the task is not done elsewhere (rule ``app_untouched``,
agent.apps): the work has to reach the app, by its pages or from code.

The curve's ticket family (resolve a Trac ticket, answered with a file ``trac/ticket/4.txt``)
is where the 1.5B model did it. The apps and wordings here are others: a Gitea, a CalDAV
calendar, a webmail with an SMTP relay, a chat, a tracker without a port, a local page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import answer, call, plan, verdict

from agent.build import build_agent
from agent.evidence import broken_rule
from agent.llm import FunctionLLM
from agent.runner import Event, run_task
from agent.state import ToolStep
from tools import default_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import PASSWORD, USER

REGISTRY = default_registry()

TASK = """# Sprint clean-up

Apps you can use:
- Gitea (code hosting): http://127.0.0.1:3300/ (user `sam`, password `pw`)
- Calendars (CalDAV): your calendar is http://127.0.0.1:5232/sam/calendar/ ; upload .ics files
- Mail: webmail http://127.0.0.1:8025 (user `sam`, password `pw`); SMTP 127.0.0.1:2526 without TLS
- Chat: http://127.0.0.1:5280/chat (log in as `sam@initech.test`)
- Tracker: https://tracker.initech.test/ (no login)
"""


def read_only(name: str) -> bool:
    return REGISTRY.get(name).read_only


def step(tool: str, output: str = "ok", **arguments: object) -> ToolStep:
    return ToolStep(call_id="c", tool=tool, arguments=arguments, output=output)


def page(url: str) -> str:
    return f'URL: {url}\nTitle: t\nInteractive elements:\n[1] button "Save"\nPage text: ok'


def judged(goal: str, attempt: list[ToolStep], before: list[ToolStep] | None = None) -> Any:
    history = [*(before or []), *attempt]
    return broken_rule(goal, attempt, read_only=read_only, task=TASK, history=history)


@pytest.mark.parametrize(
    ("goal", "attempt", "app"),
    [
        # a file in the workspace stands for the change
        (
            "Close issue 12 in Gitea as a duplicate of issue 9.",
            [step("file_write", path="gitea/issues/12.txt", content="closed, dup of #9")],
            "Gitea",
        ),
        # nothing done at all, the answer only claims it
        ("Move the stand-up in your calendar to 10:00 on Friday.", [], "Calendars"),
        # a mail command that is not the relay the task gives
        (
            "Reply by mail to dana@initech.test that the build is green.",
            [step("shell_run", "exit code 127", command="echo green | mail dana@initech.test")],
            "Mail",
        ),
        # a tracker given without a port
        (
            "On the tracker, set the priority of bug 77 to high.",
            [step("file_write", path="bug77.md", content="priority: high")],
            "Tracker",
        ),
        # named by its address, as a planner writes it
        (
            "Open http://127.0.0.1:3300/sam/site/issues/12 and close it.",
            [step("file_write", path="done.md", content="closed")],
            "Gitea",
        ),
    ],
)
def test_work_that_never_reached_the_app_is_not_a_success(
    goal: str, attempt: list[ToolStep], app: str
) -> None:
    broken = judged(goal, attempt)
    assert broken is not None and broken.rule == "app_untouched", broken
    assert app in broken.evidence and app in broken.analysis


@pytest.mark.parametrize(
    ("goal", "attempt"),
    [
        (  # its pages
            "Close issue 12 in Gitea as a duplicate of issue 9.",
            [
                step("browser_goto", page("http://127.0.0.1:3300/sam/site/issues/12"), url="x"),
                step(
                    "browser_click", page("http://127.0.0.1:3300/sam/site/issues/12"), element_id=1
                ),
            ],
        ),
        (  # a command given its address
            "Move the stand-up in your calendar to 10:00 on Friday.",
            [
                step(
                    "shell_run",
                    command="curl -T standup.ics http://127.0.0.1:5232/sam/calendar/standup.ics",
                )
            ],
        ),
        (  # code given the host and the port apart
            "Reply by mail to dana@initech.test that the build is green.",
            [
                step(
                    "python_run",
                    "sent",
                    code="import smtplib\ns = smtplib.SMTP('127.0.0.1', 2526)\ns.send_message(m)",
                )
            ],
        ),
        (  # a host without a port, in the page shown
            "On the tracker, set the priority of bug 77 to high.",
            [step("browser_click", page("https://tracker.initech.test/bug/77"), element_id=1)],
        ),
        (  # a negated app is not asked for: the chat is never opened, and need not be
            "Without using the chat, close issue 12 in Gitea.",
            [step("browser_click", page("http://127.0.0.1:3300/sam/site/issues/12"), element_id=1)],
        ),
        (  # a goal that names a file is left to the file rules (its input may be local)
            "Sum the hours in timesheet.csv from the tracker into hours.txt.",
            [step("python_run", "wrote hours.txt", code="open('hours.txt','w').write('7')")],
        ),
    ],
)
def test_work_that_reached_the_app_is_not_held_against_it(
    goal: str, attempt: list[ToolStep]
) -> None:
    broken = judged(goal, attempt)
    assert broken is None or broken.rule != "app_untouched", broken


def test_an_answer_read_earlier_in_the_run_needs_no_new_visit() -> None:
    goal = "Which Gitea issues are labelled `blocker`?"
    earlier = [step("browser_goto", page("http://127.0.0.1:3300/sam/site/issues"), url="x")]
    assert judged(goal, [], before=earlier) is None
    never = judged(goal, [])
    assert never is not None and never.rule == "app_untouched"


def test_a_change_made_in_the_workspace_after_a_visit_is_not_the_apps() -> None:
    goal = "Close issue 12 in Gitea as a duplicate of issue 9."
    visited = [step("browser_goto", page("http://127.0.0.1:3300/sam/site/issues/12"), url="x")]
    attempt = [step("file_write", path="issue-12.txt", content="closed")]
    broken = judged(goal, attempt, before=visited)
    assert broken is not None and broken.rule == "app_untouched"
    assert "file_write" in broken.evidence and "did not reach Gitea" in broken.evidence


def test_without_an_app_list_the_rule_says_nothing() -> None:
    attempt = [step("file_write", path="gitea.txt", content="closed")]
    task = "Close issue 12 in Gitea."  # no app given by address: nothing to reach
    broken = broken_rule(task, attempt, read_only=read_only, task=task, history=attempt)
    assert broken is None or broken.rule != "app_untouched", broken


ONE_APP = """# Team offsite

Apps you can use:
- Calendars (CalDAV): http://127.0.0.1:5232/kim/calendar/ ; store an event with `curl -T x.ics <url>`
"""


@pytest.mark.parametrize(
    ("goal", "attempt", "broken"),
    [
        # the only app, not named: a booking made in the workspace is not one
        (
            "Reserve the Everest room on 2027-01-14, 14:00-15:00, and invite dana@initech.test.",
            [step("file_write", path="offsite.ics", content="BEGIN:VCALENDAR")],
            True,
        ),
        (
            "Please schedule the offsite for Thursday 10:00 with Lee.",
            [step("shell_run", command="echo BEGIN:VEVENT > offsite.ics")],
            True,
        ),
        # uploaded there: reached
        (
            "Reserve the Everest room on 2027-01-14, 14:00-15:00, and invite dana@initech.test.",
            [
                step("file_write", path="offsite.ics", content="BEGIN:VCALENDAR"),
                step(
                    "shell_run",
                    command="curl -T offsite.ics http://127.0.0.1:5232/kim/calendar/o.ics",
                ),
            ],
            False,
        ),
        # a file's verbs, or a question: the workspace may be the place
        (
            "Write a summary of the offsite plan.",
            [step("file_write", path="s.md", content="x")],
            False,
        ),
        ("When is the offsite?", [], False),
    ],
)
def test_an_effect_elsewhere_in_a_task_with_one_app_is_about_that_app(
    goal: str, attempt: list[ToolStep], broken: bool
) -> None:
    found = broken_rule(goal, attempt, read_only=read_only, task=ONE_APP + goal, history=attempt)
    if broken:
        assert found is not None and found.rule == "app_untouched", found
        assert "Calendars" in found.evidence
    else:
        assert found is None or found.rule != "app_untouched", found


def test_with_several_apps_and_none_named_the_rule_does_not_guess() -> None:
    goal = "Reserve the Everest room on 2027-01-14 and invite dana@initech.test."
    attempt = [step("file_write", path="offsite.ics", content="BEGIN:VCALENDAR")]
    found = judged(goal, attempt)
    assert found is None or found.rule != "app_untouched", found


WITH_FILES = """# Handbook

Apps you can use:
- Documents: http://127.0.0.1:8090 (read-only listing; upload with WebDAV)
- Wiki (pages, history): http://127.0.0.1:8091/ (no login)
- Tracker: http://127.0.0.1:8092/ (no login)
"""


@pytest.mark.parametrize(
    ("goal", "attempt", "broken"),
    [
        # the wiki named beside a file: the file was read, the wiki never reached
        (
            "Make the Wiki page `Team/Dana` from the form `HR/dana.txt` (role, team).",
            [
                step("file_read", "Role: analyst", path="HR/dana.txt"),
                step("python_run", "Role: analyst", code="print(open('HR/dana.txt').read())"),
            ],
            True,
        ),
        # the wiki reached from code: the file rules judge the rest
        (
            "Make the Wiki page `Team/Dana` from the form `HR/dana.txt` (role, team).",
            [
                step(
                    "python_run",
                    "201",
                    code="requests.put('http://127.0.0.1:8091/Team/Dana', data=open('HR/dana.txt'))",
                )
            ],
            False,
        ),
        # the tracker read into a file of the workspace: the output is the file's
        (
            "List the Tracker's open issues in `open.csv`.",
            [
                step("browser_goto", page("http://127.0.0.1:8092/issues"), url="x"),
                step("file_write", path="open.csv", content="id\n4\n"),
            ],
            False,
        ),
        # the file's app need not be reached: its file is in the workspace too
        (
            "Sum the `hours` column of `Documents/timesheet.csv` into `sums.csv`.",
            [
                step(
                    "python_run",
                    "ok",
                    code="import pandas; pandas.read_csv('Documents/timesheet.csv')",
                )
            ],
            False,
        ),
    ],
)
def test_a_goal_with_a_file_still_needs_the_other_apps_it_names(
    goal: str, attempt: list[ToolStep], broken: bool
) -> None:
    task = WITH_FILES + goal
    found = broken_rule(goal, attempt, read_only=read_only, task=task, history=attempt)
    if broken:
        assert found is not None and found.rule == "app_untouched", found
        assert "Wiki" in found.evidence
    else:
        assert found is None or found.rule != "app_untouched", found


# ---------------------------------------------------------------- end to end


def _button(observation: str, name: str) -> int:
    return int(re.findall(rf'\[(\d+)\] button "{name}"', observation)[0])


async def test_a_fooled_verdict_on_a_local_file_is_overruled_and_the_retry_acts_on_the_page(
    settings: Any, workspace: Path, site: Any
) -> None:
    """A scripted model writes a note for the approval, the fooled verdict is overruled with
    the app's address, and the retry on the real page stands."""
    task = (
        "Approve the Q3 report in Reports.\n\nApps you can use:\n"
        f"- Reports (finance): {site.base}/reports (user `{USER}`, password `{PASSWORD}`)\n"
    )
    settings.tools.allowed_hosts = ["127.0.0.1"]
    on_page = [  # the retry: sign in, open the report, approve it
        lambda seen: call("browser_goto", url=f"{site.base}/login"),
        lambda seen: call("browser_type", element_id=1, text=USER),
        lambda seen: call("browser_type", element_id=2, text=PASSWORD),
        lambda seen: call("browser_click", element_id=_button(seen, "Sign in")),
        lambda seen: call("browser_goto", url=f"{site.base}/reports/q3"),
        lambda seen: call("browser_click", element_id=_button(seen, "Approve report")),
    ]

    def act(messages: list[Any], tools: Any, output: Any) -> Any:
        from agent.models import Distillation, Plan, Reflection

        if output is Plan:
            return plan(task)
        if output is Reflection:
            return verdict(True)  # fooled every time: only the rule tells
        if output is Distillation:
            return {"lessons": []}
        seen = [str(m.content) for m in messages if m.role == "tool"]
        if not any("Nothing was done in Reports" in str(m.content) for m in messages):
            return call("file_write", path="reports/q3-approved.txt", content="approved")
        return on_page.pop(0)(seen[-1] if seen else "") if on_page else answer("approved")

    agent = build_agent(
        settings, llm=FunctionLLM(act), memory=False, workspace=workspace,
        registry=default_registry(enabled=("browser", "files")), profile="local",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(agent, task, on_event=events.append)
    reflections = [e.data for e in events if e.event == "reflection"]
    assert reflections[0]["rule"] == "app_untouched" and not reflections[0]["achieved"]
    assert f"{site.base}/reports" in reflections[0]["evidence"] + reflections[0]["analysis"]
    assert reflections[-1]["rule"] is None and reflections[-1]["achieved"]
    assert result.achieved and site.state.approved
