"""The web UIs an agent uses, driven by the project's browser tools: Roundcube webmail
(Dovecot + SMTP behind it) and converse.js chat (Prosody, a colleague bot)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.acme import Environment
from evals.acme.apps.chat import bots_file
from evals.acme.seed import MailSeed, Seed
from evals.acme.state import ChatState, MailState
from evals.oracles.actions import Actions
from evals.tasks import Task, TaskSpec
from tools import ToolContext, default_registry


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environment]:
    environment = Environment(tmp_path_factory.mktemp("acme") / "run")
    seed = Seed(mail=[MailSeed(sender="dana", subject="Quarterly numbers", body="See attached.")])

    def apply(app: str, data: Path) -> None:
        seed.apply(app, data)
        if app == "chat":
            bots = [{"user": "priya", "rules": [], "default_reply": "Hello from Priya"}]
            bots_file(data).write_text(json.dumps(bots))

    environment.reset(["mail", "chat"], seed=apply)
    yield environment
    environment.purge()


def _actions(env: Environment, ctx: ToolContext) -> Actions:
    spec = TaskSpec(
        title="ui", category="admin", family="ui", difficulty="short", grader="x:y", solution="x:y"
    )
    task = Task(suite="ui", name="ui", folder=Path("."), spec=spec, text="")
    return Actions(task, env.urls(), default_registry(enabled=("browser",)), ctx)


async def _wait_for(act: Actions, name: str, seconds: float = 45) -> None:
    # generous: the first page of a cold Roundcube on a loaded machine took over 15 s
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        res = await act.call("browser_wait", {"seconds": 0.5})
        act._remember(res)
        if any(e.get("name") == name for e in act.page.get("elements", [])) or name in res.output:
            return
    raise AssertionError(f"{name!r} never appeared on {act.page.get('url')}")


async def _sign_in(act: Actions, env: Environment) -> None:
    """Alex signs in to the webmail and the seeded message is listed."""
    await act.goto(env.urls()["webmail_url"])
    await act.type("Username", "alex")
    await act.type("Password", "alex-acme-2026")
    await act.click("Login", "button")
    await _wait_for(act, "Quarterly numbers")


async def test_roundcube_login_and_read(env: Environment, tmp_path: Path) -> None:
    async with ToolContext(workspace=tmp_path) as ctx:
        act = _actions(env, ctx)
        await _sign_in(act, env)
    assert [m["Subject"] for m in MailState(env.data_dir("mail")).messages("alex")] == [
        "Quarterly numbers"
    ]


async def test_roundcube_reply_notes_lead_from_the_inbox_to_the_reply_form(
    env: Environment, tmp_path: Path
) -> None:
    """agent.mailbox on the real webmail: Roundcube opens a message in a preview frame
    beside the list (the URL stays the inbox's), so the note must follow it there."""
    import re

    from agent.mailbox import reply_note

    goal = "Dana sent the quarterly numbers. Reply to her that they arrived."
    async with ToolContext(workspace=tmp_path) as ctx:
        act = _actions(env, ctx)
        await _sign_in(act, env)
        res = await act.call("browser_wait", {"seconds": 0.5})
        note = reply_note(goal, res.output) or ""
        assert note.startswith("The goal asks for a reply to a message"), note
        [(msg, name)] = re.findall(r"\[(\d+)\] '([^']+)'", note.split("first (", 1)[1])
        assert name == "Quarterly numbers"
        act._remember(await act.call("browser_click", {"element_id": int(msg)}))
        for _ in range(30):  # the preview frame loads and Reply turns enabled
            res = await act.call("browser_wait", {"seconds": 0.5})
            note = reply_note(goal, res.output) or ""
            if note.startswith("A message is open"):
                break
        assert note.startswith("A message is open on this page (") and "Quarterly numbers" in note
        reply = int(re.search(r"press \[(\d+)\] \('Reply'\)", note).group(1))  # type: ignore[union-attr]
        act._remember(await act.call("browser_click", {"element_id": reply}))
        await _wait_for(act, "Send")
        res = await act.call("browser_wait", {"seconds": 0.5})
    assert "_action=compose" in res.output and "dana@acme.test" in res.output
    assert 'value="Re: Quarterly numbers"' in res.output
    assert reply_note(goal, res.output) is None  # the form: nothing more to point at


async def test_converse_chat_with_a_bot(env: Environment, tmp_path: Path) -> None:
    async with ToolContext(workspace=tmp_path) as ctx:
        act = _actions(env, ctx)
        await act.goto(env.urls()["chat_url"])
        await _wait_for(act, "XMPP Address:")
        await act.type("XMPP Address:", "alex")
        await act.type("Password", "alex-acme-2026")
        await act.click("Log in", "button")
        await _wait_for(act, "Priya Raman")
        await act.click("PR Priya Raman", "link")
        await _wait_for(act, "Message")
        box = act.find("Message")
        res = await act.call(
            "browser_type", {"element_id": box, "text": "Hi Priya!", "submit": True}
        )
        act._remember(res)
        await _wait_for(act, "Hello from Priya")
    assert ChatState(env.data_dir("chat")).received("priya") == ["Hi Priya!"]
