"""A run whose task gives a mail account gets the mail tools (agent.runner.with_task_tools,
agent.apps.mail_account); the verdict's rules see what they did (agent.sent, agent.apps).

End to end on the curve's real mail servers with a scripted model: the reply it sends
reaches the sender's mailbox, and the run is judged done by the rules, not only the model.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import acting_llm, answer, call

from agent.apps import mail_account
from agent.config import Settings
from agent.evidence import broken_rule
from agent.state import ToolStep
from tools import default_registry

CURVE_LINE = (
    "- Mail: webmail http://127.0.0.1:{web} (user `alex`, password `{pw}`); SMTP 127.0.0.1:{smtp} "
    "and IMAP 127.0.0.1:{imap} without TLS, same login"
)
PREAMBLE = (
    "You are Alex Kim (`alex`, alex@acme.test), operations associate at Acme Corp. People are "
    "addressed as `<user>@acme.test` (e.g. priya@acme.test).\n\n"
)


def test_the_account_a_task_gives_in_several_wordings() -> None:
    task = (
        PREAMBLE + "Apps you can use:\n" + CURVE_LINE.format(web=1, pw="pw-1", smtp=2525, imap=1143)
    )
    acc = mail_account(task)
    assert acc is not None
    assert (acc.address, acc.user, acc.password.get_secret_value()) == (
        "alex@acme.test",
        "alex",
        "pw-1",
    )
    assert (acc.smtp_host, acc.smtp_port, acc.imap_host, acc.imap_port, acc.tls) == (
        "127.0.0.1", 2525, "127.0.0.1", 1143, "none",
    )  # fmt: skip
    # another company, a server name, TLS by default, the login an address, no IMAP
    other = (
        "Reply from the team account.\n\nApps:\n"
        "- E-mail: SMTP server smtp.corp.example:587 (user `ops@corp.example`, password `Xy9`)\n"
    )
    acc = mail_account(other)
    assert acc is not None and acc.address == "ops@corp.example" and acc.tls == "starttls"
    assert (acc.smtp_host, acc.smtp_port, acc.imap_host) == ("smtp.corp.example", 587, None)
    # a login with no address of its own in the task: at the domain the task's addresses use
    acc = mail_account("Mail sam@shop.test.\n- Mail: SMTP 10.0.0.2:25 (user `kim`, password `p`)")
    assert acc is not None and acc.address == "kim@shop.test"
    # no login, or no server: no account
    assert mail_account("- Mail: SMTP 127.0.0.1:2525, no login needed") is None
    assert mail_account("- Mail: webmail http://127.0.0.1:9 (user `a`, password `b`)") is None


def _step(tool: str, output: str, **arguments: Any) -> ToolStep:
    return ToolStep(call_id=tool, tool=tool, arguments=arguments, output=output)


def test_the_rules_count_a_reply_sent_by_the_mail_tool() -> None:
    task = PREAMBLE + "Apps:\n" + CURVE_LINE.format(web=1, pw="p", smtp=2525, imap=1143)
    goal = "Reply to the access request in your mailbox, naming the system."
    listed = _step("mail_inbox", "INBOX of alex@acme.test (IMAP 127.0.0.1:1143): 1 message(s)\n"
                   "[7] 2026-11-16 09:00 | Kenji Sato <kenji@acme.test> | Access (unread)")  # fmt: skip
    sent = _step("mail_send", "Mail sent to kenji@acme.test from alex@acme.test via SMTP "
                 "127.0.0.1:2525: 'Re: Access'", reply_to=7, body="Grafana: done")  # fmt: skip
    ro = lambda name: default_registry().get(name).read_only  # noqa: E731
    assert (
        broken_rule(goal, [listed, sent], read_only=ro, task=task, history=[listed, sent]) is None
    )
    # the same reply with nothing read first: to an address the run never saw
    rule = broken_rule(goal, [sent], read_only=ro, task=task, history=[sent])
    assert rule is not None and rule.rule == "reply_unread" and "kenji@acme.test" in rule.evidence
    # a failed send is no send
    failed = _step("mail_send", "", to="kenji@acme.test", body="x")
    failed.error = "SMTP 127.0.0.1:2525 did not take the message: refused"
    rule = broken_rule(goal, [listed, failed], read_only=ro, task=task, history=[listed, failed])
    assert rule is not None


@pytest.fixture(scope="module")
def mail_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from evals.acme import Environment

    env = Environment(tmp_path_factory.mktemp("acme"))
    try:
        env.up(["mail"])
        urls = env.urls()
        msg = EmailMessage()
        msg["From"], msg["To"] = "Olivia Park <olivia@acme.test>", "alex@acme.test"
        msg["Subject"] = "Need access to the VPN"
        msg.set_content("Hello, could I get VPN access? Thanks, Olivia")
        with smtplib.SMTP("127.0.0.1", int(urls["smtp_port"]), timeout=10) as s:
            s.send_message(msg)
        yield urls
    finally:
        env.purge()


async def test_a_run_with_a_mail_account_answers_a_message(
    settings: Settings, workspace: Path, mail_env: dict[str, str]
) -> None:
    from agent.build import build_agent
    from agent.runner import run_task
    from evals.acme.company import EMPLOYEES

    pw = next(e.password for e in EMPLOYEES if e.user == "alex")
    web = mail_env["webmail_url"].rsplit(":", 1)[1]
    task = (
        PREAMBLE + "Someone emailed you asking for access to a system. Reply to them naming "
        "that system and quoting REQ-7001.\n\nApps you can use:\n"
        + CURVE_LINE.format(web=web, pw=pw, smtp=mail_env["smtp_port"], imap=mail_env["imap_port"])
    )
    offered: list[str] = []
    notes: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        offered[:] = [t.name for t in tools]
        notes[:] = [str(m.content) for m in messages if "code listed your inbox" in str(m.content)]
        if len(seen) == 0:
            return call("mail_inbox", unread_only=True)
        if len(seen) == 1:
            uid = int(str(seen[0]).split("\n[", 1)[1].split("]", 1)[0])
            return call("mail_read", uid=uid)
        if len(seen) == 2:
            uid = int(str(seen[1]).split("[", 1)[1].split("]", 1)[0])
            return call("mail_send", reply_to=uid, body="VPN access is granted. Ref REQ-7001.")
        return answer("replied")

    settings.tools.allowed_hosts = ["127.0.0.1"]
    agent = build_agent(
        settings, llm=acting_llm(task, act), memory=False, workspace=workspace,
        registry=default_registry(enabled=("files",)), profile="local",
    )  # fmt: skip
    result = await run_task(agent, task)
    assert {"mail_inbox", "mail_read", "mail_send"} <= set(offered) and "file_read" in offered
    # said once, at the start: the inbox as code listed it, and the calls for its message
    assert len(notes) == 1 and "Need access to the VPN" in notes[0], notes
    uid = notes[0].split("The likeliest is [", 1)[1].split("]", 1)[0]
    assert f'mail_read {{"uid": {uid}}}' in notes[0] and f'{{"reply_to": {uid},' in notes[0]
    assert result.outcome == "achieved", result
    box = imaplib.IMAP4("127.0.0.1", int(mail_env["imap_port"]), timeout=10)
    box.login("olivia", next(e.password for e in EMPLOYEES if e.user == "olivia"))
    box.select("INBOX", readonly=True)
    _, data = box.search(None, "SUBJECT", '"Re: Need access to the VPN"')
    (n,) = (data[0] or b"").split()
    _, parts = box.fetch(n, "(BODY.PEEK[])")
    box.logout()
    raw = next(p[1] for p in parts if isinstance(p, tuple))
    reply = email.message_from_bytes(raw, policy=email.policy.default)
    assert reply["From"] == "alex@acme.test" and "REQ-7001" in str(reply)


async def test_a_task_without_a_mail_account_offers_no_mail_tools(
    settings: Settings, workspace: Path
) -> None:
    from agent.build import build_agent
    from agent.runner import run_task

    offered: list[str] = []

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        offered[:] = [t.name for t in tools]
        return answer("nothing to do")

    agent = build_agent(
        settings, llm=acting_llm("Say hello.", act), memory=False, workspace=workspace,
        registry=default_registry(enabled=("files",)), profile="local",
    )  # fmt: skip
    await run_task(agent, "Say hello.")
    assert offered and not [n for n in offered if n.startswith("mail_")]


async def test_a_configured_account_wins_over_the_tasks(tmp_path: Path) -> None:
    from agent.runner import with_task_tools
    from tools import ToolContext, ToolSettings

    configured = ToolSettings.model_validate(
        {"mail": {"address": "ops@corp.example", "user": "ops", "smtp_host": "smtp.corp.example"}}
    )
    task = PREAMBLE + "Apps:\n" + CURVE_LINE.format(web=1, pw="p", smtp=2525, imap=1143)
    base = default_registry(enabled=("files",))
    async with ToolContext(tmp_path, configured) as tools:
        registry, _ = with_task_tools(base, {}, tools, task)
        assert tools.mail is not None and tools.mail.address == "ops@corp.example"
        assert "mail_send" in registry
    async with ToolContext(tmp_path) as tools:
        registry, _ = with_task_tools(base, {}, tools, task)
        assert tools.mail is not None and tools.mail.smtp_port == 2525
        # the same context, a later run whose task gives none: no account is left over
        registry, _ = with_task_tools(base, {}, tools, "Say hello.")
        assert tools.mail is None and "mail_send" not in registry


async def test_a_skill_learned_from_a_sent_mail_is_not_replayed(
    settings: Settings, workspace: Path, mail_env: dict[str, str], tmp_path: Path
) -> None:
    """Replaying a skill proves it by doing it again: for a mail, that is a second mail. A
    skill that sends one is kept as a candidate, as a browser skill is, proven by its first
    successful use (before: no skill, "the attempt changed no file")."""
    from agent.build import build_agent
    from agent.runner import run_task
    from evals.acme.company import EMPLOYEES
    from memory import MemoryStore

    pw = next(e.password for e in EMPLOYEES if e.user == "alex")
    web = mail_env["webmail_url"].rsplit(":", 1)[1]
    task = (
        PREAMBLE
        + "Mail kenji@acme.test the word `ready` as the subject and body.\n\nApps:\n"
        + CURVE_LINE.format(web=web, pw=pw, smtp=mail_env["smtp_port"], imap=mail_env["imap_port"])
    )

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        if not seen:
            return call("mail_send", to="kenji@acme.test", subject="ready", body="ready")
        return answer("sent")

    settings.tools.allowed_hosts = ["127.0.0.1"]
    store = MemoryStore.open(tmp_path / "mem")
    try:
        agent = build_agent(
            settings, llm=acting_llm(task, act), memory=store, workspace=workspace,
            registry=default_registry(enabled=("files",)), profile="local",
        )  # fmt: skip
        result = await run_task(agent, task)
        skills = store.list_items(level="skill")
    finally:
        store.close()
    assert result.outcome == "achieved"
    kenji = next(e.password for e in EMPLOYEES if e.user == "kenji")
    box = imaplib.IMAP4("127.0.0.1", int(mail_env["imap_port"]), timeout=10)
    box.login("kenji", kenji)
    box.select("INBOX", readonly=True)
    _, data = box.search(None, "SUBJECT", '"ready"')
    box.logout()
    assert len((data[0] or b"").split()) == 1  # sent once: not again by a replay
    assert skills and all(s.status == "candidate" for s in skills)


@pytest.mark.parametrize(
    ("goal", "kind"),
    [
        (
            "Someone emailed you asking for access. Send them a reply that names the system.",
            "reply",
        ),
        ("Answer Kenji's request in your mailbox.", "reply"),
        ("Finish with an email to Rachel giving the number of flagged claims.", "send"),
        ("Then tell sam@acme.test by email which product came out on top.", "send"),
        ("Count the unread messages in your mailbox and write the number to n.txt.", None),
        ("Close ticket #4 as fixed.", None),
    ],
)
def test_the_opening_note_on_the_mail_tools(goal: str, kind: str | None) -> None:
    from agent.mailbox import mail_tools_note

    note = mail_tools_note(goal)
    if kind is None:
        assert note is None
    elif kind == "reply":
        assert note is not None and '{"reply_to": N' in note and "Read the message" in note
    else:
        assert note is not None and 'mail_send {"to":' in note


def test_the_compact_set_gets_browser_fill_only_for_a_task_with_web_apps(tmp_path: Path) -> None:
    """Small models' tool set stays as it was for a task of files (the demo's prompt), and a
    task that gives web apps gets the form tool."""
    import asyncio

    from agent.build import COMPACT_TOOLS
    from agent.runner import with_task_tools
    from tools import ToolContext

    compact = default_registry().subset(names=COMPACT_TOOLS)
    assert "browser_fill" not in compact

    async def offered(task: str) -> set[str]:
        async with ToolContext(tmp_path) as tools:
            return set(with_task_tools(compact, {}, tools, task)[0].names)

    web = "Close #4.\n\nApps you can use:\n- Trac (tickets): http://127.0.0.1:8000 (no login needed)\n"
    assert "browser_fill" in asyncio.run(offered(web))
    files = "Sum the amounts in claims.csv per employee into totals.csv."
    assert asyncio.run(offered(files)) == set(compact.names)


async def test_a_mail_under_approval_leaves_only_with_a_yes(
    settings: Settings, workspace: Path, mail_env: dict[str, str]
) -> None:
    from agent.build import build_agent
    from agent.runner import run_task
    from evals.acme.company import EMPLOYEES

    pw = {e.user: e.password for e in EMPLOYEES}
    web = mail_env["webmail_url"].rsplit(":", 1)[1]
    line = CURVE_LINE.format(
        web=web, pw=pw["alex"], smtp=mail_env["smtp_port"], imap=mail_env["imap_port"]
    )
    asked: list[dict[str, Any]] = []

    def sent_to_rachel(subject: str) -> int:
        box = imaplib.IMAP4("127.0.0.1", int(mail_env["imap_port"]), timeout=10)
        box.login("rachel", pw["rachel"])
        box.select("INBOX", readonly=True)
        _, data = box.search(None, "SUBJECT", f'"{subject}"')
        box.logout()
        return len((data[0] or b"").split())

    settings.tools.allowed_hosts = ["127.0.0.1"]
    settings.approval_tools = ["mail_send"]
    for answer_yes, subject in ((False, "approval-no"), (True, "approval-yes")):
        task = PREAMBLE + f"Mail rachel@acme.test the subject `{subject}`.\n\nApps:\n" + line

        def act(seen: list[str], messages: list[Any], tools: Any, subject: str = subject) -> Any:
            if not seen:
                return call("mail_send", to="rachel@acme.test", subject=subject, body="-")
            return answer("done")

        def approve(request: dict[str, Any], yes: bool = answer_yes) -> bool:
            asked.append(request)
            return yes

        agent = build_agent(
            settings, llm=acting_llm(task, act), memory=False, workspace=workspace,
            registry=default_registry(enabled=("files",)), profile="local",
        )  # fmt: skip
        await run_task(agent, task, approve=approve)
        assert sent_to_rachel(subject) == (1 if answer_yes else 0)
    assert len(asked) >= 2 and all("mail_send" in str(a) for a in asked)
