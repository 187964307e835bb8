"""Code that takes a web app of the task for a Python library is held back once, with the
app's address (agent.apps).

The curve's ticket family (Trac) is where the 1.5B model did it. The apps and wordings here
are others: a Gitea, a Nextcloud, a calendar, a Redis cache, a local test page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import acted, answer, call

from agent.apps import (
    app_as_module,
    blank_tab_note,
    empty_folder_note,
    mailer_note,
    missing_page_note,
    web_apps,
)
from agent.targets import HELD_BACK

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import Site

TASK = """Move issue 12 of the 'site' repository to the milestone `v2`.

Apps you can use:
* Gitea (code hosting): https://git.initech.test:3000/ (user `sam`, password `pw`)
- Nextcloud Files: http://127.0.0.1:8080/files
- Calendar (team): http://127.0.0.1:9090
- Redis: 127.0.0.1:6379, no password
"""


def test_the_apps_a_task_gives_by_a_web_address() -> None:
    apps = web_apps(TASK)
    assert apps["gitea"] == ("Gitea", "https://git.initech.test:3000/")
    assert apps["nextcloud"][1] == apps["nextcloud_files"][1] == "http://127.0.0.1:8080/files"
    assert apps["calendar"] == ("Calendar", "http://127.0.0.1:9090")
    assert "redis" not in apps  # no web address: meant to be reached from code
    assert web_apps("Refund order 4411 on http://127.0.0.1:9/orders.") == {}


@pytest.mark.parametrize(
    ("tool", "arguments", "app"),
    [
        (
            "python_run",
            {"code": "from gitea.api import Issue\nIssue(12).milestone = 'v2'"},
            "Gitea",
        ),
        ("python_run", {"code": "import os, gitea; gitea.move(12)"}, "Gitea"),
        ("python_run", {"script": "import nextcloud.files as nc"}, "Nextcloud Files"),
        ("shell_run", {"command": "python3 -c \"import gitea; print('x')\""}, "Gitea"),
        ("shell_run", {"command": "pip install -q py-gitea==0.2 && python m.py"}, "Gitea"),
        ("python_install", {"packages": ["Nextcloud>=1"]}, "Nextcloud Files"),
        # a command named like the app (the curve's Trac tasks: trac-admin, subprocess 'trac')
        ("shell_run", {"command": "gitea-cli issue edit 12 --milestone v2"}, "Gitea command"),
        ("shell_run", {"command": "cd site && sudo gitea admin move 12"}, "Gitea command"),
        (
            "shell_run",
            {"command": "export T=1; nextcloud_sync --get a.txt"},
            "Nextcloud Files command",
        ),
        (
            "python_run",
            {"code": "import subprocess\nsubprocess.run(['gitea', 'move', '12'])"},
            "Gitea command",
        ),
        (
            "python_run",
            {"code": "import os; os.system('nextcloud-cmd ls /files')"},
            "Nextcloud Files command",
        ),
        # what the task's apps do not cover
        ("python_run", {"code": "import calendar\nprint(calendar.monthrange(2026, 2))"}, None),
        ("python_run", {"code": "import redis\nredis.Redis().get('k')"}, None),
        ("python_run", {"code": "import requests, smtplib"}, None),
        ("python_run", {"code": "print('move the issue to gitea by hand')"}, None),
        ("shell_run", {"command": "ls gitea/ && cat nextcloud.txt"}, None),
        ("shell_run", {"command": "grep -c gitea log.txt | tee gitea_count.txt"}, None),
        # a script fed to python3 on its standard input: its lines are not commands
        (
            "shell_run",
            {"command": "python3 - 12 <<'PY'\nimport sys\ngitea = sys.argv[1]\n(gitea)\nPY"},
            None,
        ),
        ("shell_run", {"command": "echo 'a | gitea x' && echo \"(nextcloud)\""}, None),
        ("python_run", {"code": "import subprocess\nsubprocess.run(['ls', 'gitea'])"}, None),
        ("python_run", {"code": "import subprocess\nsubprocess.run(['cal', '2', '2026'])"}, None),
        ("browser_goto", {"url": "https://git.initech.test:3000/"}, None),
    ],
)
def test_code_that_imports_or_installs_an_app_is_held_back(
    tool: str, arguments: dict[str, Any], app: str | None
) -> None:
    said = app_as_module(TASK, tool, arguments)
    if app is None:
        assert said is None
    else:
        assert said is not None and said.startswith(HELD_BACK)
        name = app.removesuffix(" command")
        assert f"{name} is the web app at " in said and "browser_goto" in said
        kind = "a command" if app.endswith(" command") else "a Python library"
        assert f"not {kind} in the workspace" in said
    assert app_as_module("Sum the amounts in a.csv.", tool, arguments) is None


def test_a_command_of_an_app_that_also_gives_a_server_for_code_runs() -> None:
    # a mail command for a Mail app that gives SMTP too is the server's business, not a
    # made-up program; a wiki's command on the same task is still held back
    task = (
        "Tell Sam the build is green.\n\nApps:\n"
        "- Mail: webmail https://mail.initech.test (user `kim`); SMTP mail.initech.test:2525\n"
        "- Wiki: http://127.0.0.1:7000/wiki\n"
    )
    sent = {"command": "echo green | mail -s build sam@initech.test"}
    assert app_as_module(task, "shell_run", sent) is None
    said = app_as_module(task, "shell_run", {"command": "wiki-cli edit Build"})
    assert said is not None and "Wiki is the web app at http://127.0.0.1:7000/wiki" in said


async def test_the_held_back_call_names_the_address_and_runs_when_sent_again(
    settings: Any, workspace: Path, site: Site
) -> None:
    task = (
        f"Mark item 3 as shipped in the Warehouse app.\n\nApps:\n"
        f"- Warehouse (stock, orders): {site.base}/items (no login needed)"
    )
    code = "open('ran.txt', 'w').write('ran')\nfrom warehouse.items import Item\nItem(3).ship()"
    ran_before: list[bool] = []
    turns = iter(["code", "goto", "again"])

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        if turn == "code":
            return call("python_run", code=code)
        if turn == "goto":  # told where the app is: it opens it
            ran_before.append((workspace / "ran.txt").exists())
            return call("browser_goto", url=re.findall(r"browser_goto (\S+)", seen[0])[0])
        if turn == "again":  # and then means its code after all
            return call("python_run", code=code)
        return answer("shipped")

    steps = await acted(settings, workspace, task, act, ("python", "browser"))
    assert ran_before == [False]  # held back: not run
    assert (steps[0].get("error") or "").startswith(HELD_BACK)
    assert f"Warehouse is the web app at {site.base}/items" in steps[0]["error"]
    assert steps[1]["tool"] == "browser_goto" and not steps[1].get("error")
    assert "ModuleNotFoundError" in steps[2]["output"]  # sent again: it ran
    assert (workspace / "ran.txt").read_text() == "ran"


BLANK = "URL: about:blank\nTitle: \nInteractive elements: none\nPage text: "


def test_a_blank_tab_gets_the_tasks_web_addresses() -> None:
    note = blank_tab_note(TASK, BLANK)
    assert note is not None
    assert "Gitea at https://git.initech.test:3000/ " in note
    assert "Nextcloud Files at http://127.0.0.1:8080/files " in note and "Calendar at" in note
    assert "Redis" not in note and note.count("Gitea") == 1
    page = (
        "URL: http://127.0.0.1:8080/files\nTitle: Files\nInteractive elements: none\nPage text: x"
    )
    assert blank_tab_note(TASK, page) is None  # a page is open
    assert blank_tab_note("Sum the amounts in a.csv.", BLANK) is None  # no web app
    download = BLANK.replace(
        "Interactive elements",
        "Notice: the URL started a download instead of opening a page\n"
        "Notice: downloaded 'q3.xlsx' to downloads/q3.xlsx\nInteractive elements",
    )
    assert blank_tab_note(TASK, download) is None  # a file's address: it was downloaded


EMPTY = "./\n(empty)"
APPS = TASK.split("\n\n", 1)[1]


@pytest.mark.parametrize(
    ("goal", "where"),
    [
        ("Close the oldest open issue in Gitea as a duplicate.", "Gitea (https://git.initech.test:3000/)"),
        ("There is a meeting request waiting in the team calendar: accept it.", "Calendar (http://127.0.0.1:9090)"),
        ("Share the folder Q3 from Nextcloud Files with kim.", "Nextcloud Files (http://127.0.0.1:8080/files)"),
    ],
)  # fmt: skip
def test_an_empty_folder_listing_names_the_app_the_goal_is_about(goal: str, where: str) -> None:
    note = empty_folder_note(f"{goal}\n\n{APPS}", goal, EMPTY)
    assert note is not None and f"it is about {where}." in note and "browser_goto" in note
    task = f"{goal}\n\n{APPS}"
    assert empty_folder_note(task, goal, "./\n  notes.md") is None  # the folder has files
    assert empty_folder_note(task, goal, "URL: about:blank") is None  # no listing


def test_no_folder_note_for_a_file_goal_or_one_that_names_no_app() -> None:
    task = f"Sum the hours in hours.csv into total.csv.\n\n{APPS}"
    assert empty_folder_note(task, "Sum the hours in hours.csv into total.csv.", EMPTY) is None
    goal = "Write a haiku about autumn."
    assert empty_folder_note(f"{goal}\n\n{APPS}", goal, EMPTY) is None
    goal = "Do not use the calendar; tell kim on Redis."  # negated, and an app with no address
    assert empty_folder_note(f"{goal}\n\n{APPS}", goal, EMPTY) is None


async def test_after_an_empty_listing_the_model_is_told_which_app_to_open(
    settings: Any, workspace: Path, site: Site
) -> None:
    task = f"A request is waiting in the helpdesk queue: answer it.\n\nApps:\n- Helpdesk: {site.base}/login"
    turns = iter(["list", "open"])

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        if turn == "list":
            return call("file_list")
        if turn == "open":
            note = next(
                str(m.content) for m in messages if "This folder holds nothing" in str(m.content)
            )
            return call("browser_goto", url=re.findall(r"Helpdesk \((\S+)\)", note)[0])
        return answer("opened")

    steps = await acted(settings, workspace, task, act, enabled=("browser", "files"))
    assert steps[0]["tool"] == "file_list" and steps[0]["output"].endswith("(empty)")
    assert steps[1]["tool"] == "browser_goto" and f"URL: {site.base}/login" in steps[1]["output"]


async def test_after_a_refused_address_the_model_is_told_where_the_apps_are(
    settings: Any, workspace: Path, site: Site
) -> None:
    task = f"Reply to the newest message in the Inbox.\n\nApps:\n- Inbox: {site.base}/login (user `x`, password `y`)"
    turns = iter(["made up", "listed"])

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        if turn == "made up":
            return call("browser_goto", url="http://mail.initech.example/inbox")
        if turn == "listed":
            note = next(str(m.content) for m in messages if "No page is open" in str(m.content))
            return call("browser_goto", url=re.findall(r"Inbox at (\S+) ", note)[0])
        return answer("opened")

    steps = await acted(settings, workspace, task, act)
    assert "not in the allowed hosts" in (steps[0].get("error") or "")
    assert steps[1]["tool"] == "browser_goto" and not steps[1].get("error")
    assert f"URL: {site.base}/login" in steps[1]["output"]


MAIL_TASK = """Tell dana@initech.test the build is green.

Apps:
- Outlook Web: https://owa.initech.test/ (username: sam.r, password: `pa ss`)
- Outgoing mail: SMTP relay smtp.initech.test:2525 (same login), IMAP imap.initech.test:1143
"""
NO_MAILX = "$ echo hi | mailx -s x dana\n[exit code 127, 0.0 s]\n[stderr]\nbash: line 1: mailx: command not found"


def test_a_missing_mail_command_is_answered_with_the_tasks_smtp_server() -> None:
    note = mailer_note(MAIL_TASK, NO_MAILX)
    assert note is not None and "no `mailx` command" in note
    assert "smtplib.SMTP('smtp.initech.test', 2525)" in note
    assert "pa ss" not in note  # the password stays in the task
    assert mailer_note("Tell dana the build is green.", NO_MAILX) is None  # no SMTP given
    assert mailer_note(MAIL_TASK, "$ ls\n[exit code 0, 0.0 s]\nreport.csv") is None


async def test_after_mail_is_not_found_the_model_is_told_of_the_smtp_server(
    settings: Any, workspace: Path
) -> None:
    task = "Mail the report to dana.\nSMTP 127.0.0.1:2525 (user `sam`, password `pw`)"
    turns = iter(["mail", "smtp"])
    notes: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        turn = next(turns, "done")
        if turn == "mail":
            return call("shell_run", command="echo report | mail -s report dana@x.test")
        if turn == "smtp":
            notes.extend(str(m.content) for m in messages if "SMTP server at" in str(m.content))
            return call("shell_run", command="echo noted")
        return answer("sent")

    await acted(settings, workspace, task, act, ("shell",))
    assert notes and "no `mail` command" in notes[0] and "127.0.0.1', 2525" in notes[0]


# what the browser tool showed for a made-up address on the curve's file share (WsgiDAV)
def _not_found(url: str, title: str = "404 Not Found") -> str:
    return (
        f"URL: {url}\nTitle: {title}\nInteractive elements:\n"
        '[1] link "WsgiDAV/4.4.0" -> https://github.com/mar10/wsgidav/\nPage text:\n'
        f"404 Not Found\n\n404 Not Found: {url.split('/', 3)[-1]}"
    )


SHARE_TASK = """Total the claims in `Finance/claims-77.csv` on the file share by employee, upload \
the totals as `Reports/claims-by-employee.csv`, and open a ticket in Trac for the largest one.

Apps you can use:
- File share: http://127.0.0.1:41000 (to upload: `curl -T report.csv http://127.0.0.1:41000/Folder/report.csv`)
- Trac (tickets): http://127.0.0.1:42000
- Mail: webmail http://127.0.0.1:43000 (user `alex`, password `pw`)
"""


@pytest.mark.parametrize(
    ("url", "name", "address"),
    [
        # the upload example's folder taken for the share's layout
        (
            "http://127.0.0.1:41000/Folder/claims-77.csv",
            "Finance/claims-77.csv",
            "http://127.0.0.1:41000/Finance/claims-77.csv",
        ),
        (
            "http://127.0.0.1:41000/Folder/Reports/claims-by-employee.csv",
            "Reports/claims-by-employee.csv",
            "http://127.0.0.1:41000/Reports/claims-by-employee.csv",
        ),
        # the share's path put under the webmail's address: the note names the share's
        (
            "http://127.0.0.1:43000/alex/webmail/Finance/claims-77.csv",
            "Finance/claims-77.csv",
            "http://127.0.0.1:41000/Finance/claims-77.csv",
        ),
    ],
)
def test_a_not_found_page_for_a_file_the_task_names_says_where_it_is(
    url: str, name: str, address: str
) -> None:
    note = missing_page_note(SHARE_TASK, _not_found(url))
    assert note is not None
    assert note.startswith(f"Nothing is at {url}")
    assert f"`{name}` on File share: {address}" in note
    assert "Trac" not in note  # the sentence names Trac too, farther from the path


def test_the_app_a_path_is_on_comes_from_its_sentence_in_other_wordings() -> None:
    task = """Put the minutes in the document store as `Minutes/2026-11-30.md`.

Apps:
- Wiki: http://10.0.0.5:8000/wiki
- Document store: http://10.0.0.5:9000/dav
"""
    # on the wiki's host: the sentence says the document store, and its address has a path
    note = missing_page_note(
        task, _not_found("http://10.0.0.5:8000/wiki/Minutes/2026-11-30.md", "Page Not Found")
    )
    assert note is not None
    assert (
        "`Minutes/2026-11-30.md` on Document store: http://10.0.0.5:9000/dav/Minutes/2026-11-30.md"
        in note
    )
    # a sentence that names no app: the app whose page it is
    plain = "Read `data/q4.csv` and report the total.\n\nApps:\n- Share: http://127.0.0.1:5000\n"
    note = missing_page_note(plain, _not_found("http://127.0.0.1:5000/files/q4.csv"))
    assert note is not None and "`data/q4.csv` on Share: http://127.0.0.1:5000/data/q4.csv" in note


@pytest.mark.parametrize(
    "observation",
    [
        # an app's route that does not exist: no file the task names, no app's name in front
        _not_found("http://127.0.0.1:42000/tickets/9", "Error: Not Found – Acme Corp"),
        # a folder, not a file
        _not_found("http://127.0.0.1:41000/Folder/Finance"),
        # the task's own address for the file (not uploaded yet): nothing better to say
        _not_found("http://127.0.0.1:41000/Reports/claims-by-employee.csv"),
        # a host the task does not give
        _not_found("http://127.0.0.1:49999/Folder/claims-77.csv"),
        # a page that was found
        "URL: http://127.0.0.1:41000/Finance/\nTitle: Index of /Finance/\nInteractive elements:\n"
        '[1] link "claims-77.csv" -> http://127.0.0.1:41000/Finance/claims-77.csv',
        # the upload example's file name is no file of the task
        _not_found("http://127.0.0.1:41000/Folder/report.csv"),
    ],
)
def test_no_note_for_other_pages(observation: str) -> None:
    assert missing_page_note(SHARE_TASK, observation) is None


def _trac_not_found(path: str, port: int = 42000) -> str:
    # Trac 1.6's page, as the curve's run saw it (no-memory i4, ticket-triage micro)
    return (
        f"URL: http://127.0.0.1:{port}{path}\nTitle: Error: Not Found – Acme Corp\n"
        'Interactive elements:\n[1] link "Acme Corp" -> /\n[2] textbox "Search:"\n'
        '[3] button "Search"\n[8] link "Wiki" -> /wiki\n[11] link "View Tickets" -> /report\n'
        '[15] link "TracGuide" -> /wiki/TracGuide\n'
        f"Page text:\nError: Not Found\n\nNo handler matched request to {path}"
    )


@pytest.mark.parametrize(
    ("task", "observation", "address"),
    [
        (SHARE_TASK, _trac_not_found("/trac/ticket/9"), "http://127.0.0.1:42000/ticket/9"),
        (
            SHARE_TASK,
            _trac_not_found("/Trac/query?status=new&owner=alex"),
            "http://127.0.0.1:42000/query?status=new&owner=alex",
        ),
        # another app and wording: a calendar served at its host's root
        (
            "Move the stand-up to 10:00.\n\nApps:\n- Calendar (events): http://10.1.1.1:5232\n",
            _not_found("http://10.1.1.1:5232/calendar/events/standup", "Page not found"),
            "http://10.1.1.1:5232/events/standup",
        ),
    ],
)
def test_a_not_found_address_under_the_apps_own_name_is_told_the_address_without_it(
    task: str, observation: str, address: str
) -> None:
    note = missing_page_note(task, observation)
    assert note is not None and note.endswith(f"Try {address}")
    assert "is served at the root of" in note


@pytest.mark.parametrize(
    ("task", "observation"),
    [
        # the page's own links start with that name: a route of the app (Trac's wiki)
        (
            "Fix the wiki page.\n\nApps:\n- Wiki: http://127.0.0.1:42000\n",
            _trac_not_found("/wiki/Missing/Sub"),
        ),
        # the app is not at its host's root: the name is part of its address
        (
            "Close #9.\n\nApps:\n- Trac: http://127.0.0.1:42000/trac\n",
            _trac_not_found("/trac/ticket/99"),
        ),
        # the first part of the path is not the app's name
        (SHARE_TASK, _trac_not_found("/new_ticket")),
    ],
)
def test_no_prefix_note_for_an_apps_own_routes_or_an_app_under_a_path(
    task: str, observation: str
) -> None:
    assert missing_page_note(task, observation) is None


async def test_after_a_made_up_share_address_the_model_is_told_the_files_address(
    settings: Any, workspace: Path, tmp_path: Path
) -> None:
    """On the curve's real file share (WsgiDAV) and a real browser."""
    from evals.acme import Environment
    from evals.acme.apps.files import share_root

    env = Environment(tmp_path / "acme")
    try:
        env.up(["files"])
        folder = share_root(env.data_dir("files")) / "Finance"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "claims-77.csv").write_text("employee,amount\nkim,12.50\n")
        share = env.urls()["files_url"].rstrip("/")
        task = (
            "Look at `Finance/claims-77.csv` on the file share in the browser.\n\nApps:\n"
            f"- File share: {share} (to upload: `curl -T r.csv {share}/Folder/r.csv`)\n"
        )
        turns = iter(["made up", "told"])

        def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
            turn = next(turns, "done")
            if turn == "made up":
                return call("browser_goto", url=f"{share}/Folder/claims-77.csv")
            if turn == "told":
                note = next(str(m.content) for m in messages if "Nothing is at" in str(m.content))
                return call("browser_goto", url=re.findall(r"on File share: (\S+) ", note)[0])
            return answer("seen")

        steps = await acted(settings, workspace, task, act)
    finally:
        env.purge()
    assert "Title: 404 Not Found" in steps[0]["output"]
    assert steps[1]["tool"] == "browser_goto" and not steps[1].get("error")
    # the share serves the file at that address: the browser downloads it
    assert "downloaded 'claims-77.csv'" in steps[1]["output"]


async def test_after_an_address_under_the_apps_name_the_model_is_told_the_real_one(
    settings: Any, workspace: Path, tmp_path: Path
) -> None:
    """On the curve's real Trac and a real browser: ``/trac/...`` on a Trac served at its
    host's root is not found; the note's address is the app's page."""
    from evals.acme import Environment

    env = Environment(tmp_path / "acme")
    try:
        env.up(["trac"])
        trac = env.urls()["trac_url"].rstrip("/")
        task = f"List the reports in Trac.\n\nApps:\n- Trac (tickets, wiki): {trac}\n"
        turns = iter(["made up", "told"])

        def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
            turn = next(turns, "done")
            if turn == "made up":
                return call("browser_goto", url=f"{trac}/trac/report")
            if turn == "told":
                note = next(str(m.content) for m in messages if "Nothing is at" in str(m.content))
                return call("browser_goto", url=note.rsplit("Try ", 1)[1].split()[0])
            return answer("seen")

        steps = await acted(settings, workspace, task, act)
    finally:
        env.purge()
    assert "Not Found" in steps[0]["output"].split("\n")[1]
    assert steps[1]["arguments"]["url"] == f"{trac}/report"
    assert not steps[1].get("error") and "Available Reports" in steps[1]["output"]
