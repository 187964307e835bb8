"""The mail tools on the curve's real mail servers (Dovecot's IMAP, the acme SMTP receiver).

A message is put in Alex's inbox by plain SMTP (as another employee would send it); the
tools list it, read it without marking it read, answer it with an attachment; the answer
is read back from the recipient's own mailbox over IMAP.
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
from pydantic import SecretStr

from tools import ToolContext, ToolSettings, default_registry
from tools.settings import MailAccount

pytestmark = pytest.mark.asyncio
REG = default_registry(enabled=("mail", "files"))
PASSWORDS: dict[str, str] = {}


@pytest.fixture(scope="module")
def mail_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from evals.acme import Environment
    from evals.acme.company import EMPLOYEES

    PASSWORDS.update({e.user: e.password for e in EMPLOYEES})
    env = Environment(tmp_path_factory.mktemp("acme"))
    try:
        env.up(["mail"])
        urls = env.urls()
        msg = EmailMessage()
        msg["From"], msg["To"] = "Kenji Sato <kenji@acme.test>", "alex@acme.test"
        msg["Subject"], msg["Message-ID"] = "Access to Grafana", "<req-1@acme.test>"
        msg.set_content("Hi Alex,\nplease give me access to Grafana. Reference REQ-4410.\nKenji")
        with smtplib.SMTP("127.0.0.1", int(urls["smtp_port"]), timeout=10) as s:
            s.send_message(msg)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "rachel@acme.test", "alex@acme.test", "Lunch"
        msg.set_content("Lunch at noon?")
        with smtplib.SMTP("127.0.0.1", int(urls["smtp_port"]), timeout=10) as s:
            s.send_message(msg)
        yield urls
    finally:
        env.purge()


def account(urls: dict[str, str], user: str = "alex", **over: Any) -> MailAccount:
    fields: dict[str, Any] = {
        "address": f"{user}@acme.test",
        "user": user,
        "password": SecretStr(PASSWORDS[user]),
        "smtp_host": "127.0.0.1",
        "smtp_port": int(urls["smtp_port"]),
        "imap_host": "127.0.0.1",
        "imap_port": int(urls["imap_port"]),
        "tls": "none",
    }
    return MailAccount(**(fields | over))


async def call(ctx: ToolContext, name: str, **args: Any) -> Any:
    return await REG.call(name, args, ctx)


def inbox_of(urls: dict[str, str], user: str) -> list[EmailMessage]:
    box = imaplib.IMAP4("127.0.0.1", int(urls["imap_port"]), timeout=10)
    box.login(user, PASSWORDS[user])
    box.select("INBOX", readonly=True)
    _, data = box.search(None, "ALL")
    out = []
    for n in (data[0] or b"").split():
        _, parts = box.fetch(n, "(BODY.PEEK[])")
        raw = next(p[1] for p in parts if isinstance(p, tuple))
        out.append(email.message_from_bytes(raw, policy=email.policy.default))
    box.logout()
    return out  # type: ignore[return-value]


async def test_list_read_and_answer_a_message(mail_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "access.csv").write_text("user,system\nkenji,grafana\n")
    async with ToolContext(tmp_path, ToolSettings(allowed_hosts=["127.0.0.1"])) as ctx:
        ctx.mail = account(mail_env)
        listed = await call(ctx, "mail_inbox")
        assert not listed.error, listed.error
        assert f"IMAP 127.0.0.1:{mail_env['imap_port']}" in listed.output.splitlines()[0]
        line = next(ln for ln in listed.output.splitlines() if "Access to Grafana" in ln)
        assert "Kenji Sato <kenji@acme.test>" in line and line.endswith("(unread)")
        uid = int(line[1 : line.index("]")])
        assert "Lunch" in listed.output
        found = await call(ctx, "mail_inbox", search="REQ-4410")
        assert "Access to Grafana" in found.output and "Lunch" not in found.output
        other = await call(ctx, "mail_inbox", search="Grüße")  # not ASCII: sent as UTF-8
        assert not other.error and "0 message(s) matching 'Grüße'" in other.output

        read = await call(ctx, "mail_read", uid=uid)
        assert "From: Kenji Sato <kenji@acme.test>" in read.output
        assert "Subject: Access to Grafana" in read.output and "REQ-4410" in read.output
        again = await call(ctx, "mail_inbox")
        assert "Access to Grafana (unread)" in again.output  # reading marked nothing

        sent = await call(
            ctx, "mail_send", reply_to=uid, body="Done: Grafana access for REQ-4410.",
            attach=["access.csv"],
        )  # fmt: skip
        assert not sent.error, sent.error
        assert sent.output.startswith("Mail sent to kenji@acme.test from alex@acme.test")
        assert f"SMTP 127.0.0.1:{mail_env['smtp_port']}" in sent.output

        missing = await call(ctx, "mail_read", uid=99999)
        assert missing.error and "no message with uid 99999" in missing.error
        folder = await call(ctx, "mail_inbox", folder="Archive/2019")
        assert (
            folder.error and "no folder 'Archive/2019'" in folder.error and "INBOX" in folder.error
        )
    got = [m for m in inbox_of(mail_env, "kenji") if m["Subject"] == "Re: Access to Grafana"]
    assert len(got) == 1
    reply = got[0]
    assert reply["From"] == "alex@acme.test" and reply["In-Reply-To"] == "<req-1@acme.test>"
    assert "REQ-4410" in reply.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert [p.get_filename() for p in reply.iter_attachments()] == ["access.csv"]


async def test_bad_input_gets_a_clear_error(mail_env: dict[str, str], tmp_path: Path) -> None:
    async with ToolContext(tmp_path, ToolSettings(allowed_hosts=["127.0.0.1"])) as ctx:
        none = await call(ctx, "mail_send", to="kenji@acme.test", body="x")
        assert none.error and "no mail account" in none.error

        ctx.mail = account(mail_env)
        bad = await call(ctx, "mail_send", to="kenji at acme", body="x")
        assert bad.error and "not an e-mail address: 'kenji at acme'" in bad.error
        nobody = await call(ctx, "mail_send", body="x")
        assert nobody.error and "no recipient" in nobody.error
        outside = await call(ctx, "mail_send", to="kenji@acme.test", body="x", attach=["../x"])
        assert outside.error  # a file outside the workspace is not attached

        ctx.mail = account(mail_env, password=SecretStr("wrong"))
        wrong = await call(ctx, "mail_inbox")
        assert wrong.error and "cannot sign in to IMAP 127.0.0.1" in wrong.error

        ctx.mail = account(mail_env, smtp_port=9)  # nothing listens there
        down = await call(ctx, "mail_send", to="kenji@acme.test", body="x")
        assert down.error and "SMTP 127.0.0.1:9 did not take the message" in down.error

        ctx.mail = account(mail_env, smtp_host="mail.example.com")
        far = await call(ctx, "mail_send", to="kenji@acme.test", body="x")
        assert far.error and "mail.example.com is not on allowed_hosts" in far.error
    # nothing was sent by any of these
    assert not [m for m in inbox_of(mail_env, "kenji") if m["Subject"] != "Re: Access to Grafana"]
