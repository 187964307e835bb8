"""The login a task gives for an app, said by code when that app's sign-in form is shown.

The wordings and the sign-in page here (the browser test site's) are not the curve's
webmail task nor its Roundcube page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import acting_llm, answer, call

from agent.build import build_agent
from agent.logins import login_note, logins
from agent.runner import Event, run_task
from agent.skills import parse_skill
from memory import MemoryStore
from memory.redact import redact
from tools import default_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import PASSWORD, USER, Site

TASK = """You are Sam at Initech.
Apps:
- Wiki: http://127.0.0.1:7001/wiki (username: sam.r, password: `pa ss; w0rd`)
- Files: http://127.0.0.1:7002 - sign in as sam, password hunter2.
- Chat: http://127.0.0.1:7003 (no login needed)
"""


def form(url: str, user_value: str = "", password_value: str = "") -> str:
    user = f' value="{user_value}"' if user_value else ""
    secret = f' value="{password_value}"' if password_value else ""
    return (
        f"URL: {url}\nTitle: Log on\nInteractive elements:\n"
        f'[7] link "Help"\n[8] textbox "E-mail or user name"{user}\n'
        f'[9] textbox "Passcode"{secret} [required]\n[10] checkbox "Keep me signed in"\n'
        f'[11] button "Log on"\n[12] button "Forgot?"\nPage text:\nPassword: ...'
    )


def test_the_login_each_address_is_given_with() -> None:
    assert logins(TASK) == {
        "http://127.0.0.1:7001": ("sam.r", "pa ss; w0rd"),
        "http://127.0.0.1:7002": ("sam", "hunter2"),
    }
    assert logins("Open http://127.0.0.1:9/ and reset your password there.") == {}
    # "login as" inside an address is no login
    assert logins("Sign in at http://127.0.0.1:9/login as ann with the password x1") == {}


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:7001/wiki/login?next=/", "[8] ('E-mail or user name')"),
        ("http://127.0.0.1:7002/", "type sam into [8]"),
        ("http://127.0.0.1:7003/", None),  # the task gives no login for it
        ("http://127.0.0.1:7999/login", None),  # another origin: a form that looks the same
    ],
)
def test_the_note_names_the_fields_for_the_origin_only(url: str, said: str | None) -> None:
    note = login_note(TASK, form(url))
    if said is None:
        assert note is None
    else:
        assert note is not None and said in note and "[9] ('Passcode')" in note
        assert "press [11] ('Log on')" in note


def test_no_note_once_filled_in_nor_without_a_password_box() -> None:
    url = "http://127.0.0.1:7002/"
    assert login_note(TASK, form(url, "sam", "•••••••")) is None
    assert login_note(TASK, form(url).replace('"Passcode"', '"Nickname"')) is None


def test_the_password_in_a_note_is_redacted_before_any_store() -> None:
    note = login_note(TASK, form("http://127.0.0.1:7002/")) or ""
    assert "hunter2" in note and "hunter2" not in redact(note)[0]


async def test_a_model_that_follows_the_note_signs_in(
    settings: Any, workspace: Path, site: Site
) -> None:
    task = f"Open the inventory at {site.base}/items.\nApp: {site.base} (user `{USER}`, password `{PASSWORD}`)"

    def act(tools_seen: list[str], messages: list[Any], tools: Any) -> Any:
        notes = [m.content for m in messages if "sign-in form" in str(m.content)]
        if not tools_seen:
            return call("browser_goto", url=f"{site.base}/items")
        # only what the note says: which id takes which value, and the button
        assert notes, "no sign-in note"
        user_id, password_id = re.findall(r"into \[(\d+)\]", notes[-1])
        if len(tools_seen) == 1:
            return call("browser_type", element_id=int(user_id), text=USER)
        if len(tools_seen) == 2:
            return call("browser_type", element_id=int(password_id), text=PASSWORD)
        if len(tools_seen) == 3:
            button = re.findall(r"press \[(\d+)\]", notes[-1])[0]
            return call("browser_click", element_id=int(button))
        return answer("signed in")

    settings.tools.allowed_hosts = ["127.0.0.1"]
    store = MemoryStore.open(settings.memory.path, settings=settings.memory)
    agent = build_agent(
        settings, llm=acting_llm(task, act), memory=store, workspace=workspace,
        registry=default_registry(enabled=("browser",)), profile="local",
    )  # fmt: skip
    events: list[Event] = []
    async with agent:
        await run_task(agent, task, on_event=events.append)
    assert site.state.sessions  # signed in
    # the skill learned from it takes the login from the task, not as columns of a file
    [item] = store.list_items(level="skill")
    skill = parse_skill(item.content)
    assert skill is not None
    kinds = {p.example: p.kind for p in skill.params}
    assert USER in kinds and PASSWORD in kinds, kinds
    assert "column" not in {kinds[USER], kinds[PASSWORD]}, kinds
    notes = [
        e.data["text"] for e in events if e.event == "note" and "sign-in form" in e.data["text"]
    ]
    assert len(notes) == 1  # said once for the form, not again for the same form
