"""The mail tools: list a mailbox, read a message, send one (IMAP and SMTP).

The account is ``ToolContext.mail``: ``[tools.mail]`` in journeyman.toml, or the one a
task gives in its list of apps ("SMTP 127.0.0.1:2525 and IMAP 127.0.0.1:1143 without TLS,
same login", agent.apps.mail_account). Its servers must be on ``allowed_hosts``, as the
browser's pages must. Reading never marks a message read (``BODY.PEEK``); a message's text
is untrusted, as a web page's is.

A small model that writes its own smtplib script rarely gets it to run (the 1.5B model's
attempts in the curve: a string broken over lines, a variable misspelled, ``starttls()`` on a
server without TLS, the example address of the task's preamble); in the browser it seldom
opened the message it was to answer. Three calls with plain arguments do it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import mimetypes
import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from typing import TypeVar

from pydantic import BaseModel, Field, field_validator

from tools._fileio import check_size, existing_file, read_bytes
from tools.browser.allowlist import HostAllowlist
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import Tool, tool
from tools.result import ToolResult
from tools.settings import MailAccount

TIMEOUT_S = 20.0
T = TypeVar("T")
_BODY_CHARS = 6000


def _account(ctx: ToolContext, imap: bool = False) -> MailAccount:
    account = ctx.mail
    if account is None:
        raise ToolError(
            "no mail account: the task gives no SMTP/IMAP server with a login, and "
            "journeyman.toml has no [tools.mail]; use the webmail in the browser instead"
        )
    host = account.imap_host if imap else account.smtp_host
    if not host:
        raise ToolError("the mail account has no IMAP server: it can send, not read")
    if not HostAllowlist(ctx.settings.allowed_hosts).host_allowed(host):
        raise ToolError(f"the mail server {host} is not on allowed_hosts")
    return account


def _where(account: MailAccount, imap: bool) -> str:
    if imap:
        return f"IMAP {account.imap_host}:{account.imap_port}"
    return f"SMTP {account.smtp_host}:{account.smtp_port}"


async def _talk(account: MailAccount, imap: bool, work: Callable[[], T]) -> T:
    """``work`` in a thread; a server's failure on the way is an error that names it."""
    try:
        return await asyncio.to_thread(work)
    except (OSError, imaplib.IMAP4.error, smtplib.SMTPException, UnicodeError) as exc:
        raise ToolError(f"{_where(account, imap)} failed: {exc}") from exc


def _imap(account: MailAccount) -> imaplib.IMAP4:
    host, port = account.imap_host or "", account.imap_port
    try:
        if account.tls == "ssl":
            box: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, timeout=TIMEOUT_S)
        else:
            box = imaplib.IMAP4(host, port, timeout=TIMEOUT_S)
            if account.tls == "starttls":
                box.starttls(ssl.create_default_context())
        box.login(account.user, account.password.get_secret_value())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ToolError(
            f"cannot sign in to {_where(account, True)} as {account.user}: {exc}"
        ) from exc
    return box


def _select(box: imaplib.IMAP4, folder: str) -> None:
    status, _ = box.select(_quoted(folder), readonly=True)
    if status != "OK":
        _, names = box.list()
        found = [_folder_name(n) for n in names or [] if isinstance(n, bytes)]
        raise ToolError(f"no folder {folder!r}; the folders: {', '.join(found) or 'none'}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder_name(line: bytes) -> str:
    text = line.decode(errors="replace")
    m = re.search(r'"((?:[^"\\]|\\.)*)"\s*$|(\S+)\s*$', text)
    return (m.group(1) or m.group(2)) if m else text


def _fetch(box: imaplib.IMAP4, uid: int, what: str) -> bytes:
    status, data = box.uid("FETCH", str(uid), what)
    raw = next((part[1] for part in data or [] if isinstance(part, tuple)), None)
    if status != "OK" or raw is None:
        raise ToolError(f"no message with uid {uid} in this folder (mail_inbox lists the uids)")
    return bytes(raw)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")
        if tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _body_text(msg: email.message.Message) -> str:
    part = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else msg
    if part is None:
        return ""
    text = str(part.get_content()) if isinstance(part, EmailMessage) else str(part.get_payload())
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(text)
        text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _attachments(msg: EmailMessage) -> list[EmailMessage]:
    return [p for p in msg.iter_attachments() if isinstance(p, EmailMessage)]


class InboxArgs(BaseModel):
    folder: str = Field(default="INBOX", description="The folder, e.g. INBOX or Sent.")
    search: str = Field(
        default="", description="Only messages whose sender, subject or text contain this."
    )
    unread_only: bool = Field(default=False, description="Only messages not read yet.")
    limit: int = Field(default=20, ge=1, le=100, description="At most this many, newest first.")


@tool(name="mail_inbox", group="mail", read_only=True)
async def mail_inbox(ctx: ToolContext, args: InboxArgs) -> ToolResult:
    """List the messages of a mail folder, newest first: [uid] date | sender | subject. Read
    one with mail_read and its uid."""
    account = _account(ctx, imap=True)

    def run() -> str:
        box = _imap(account)
        try:
            _select(box, args.folder)
            criteria = ["UNSEEN"] if args.unread_only else ["ALL"]
            if args.search.isascii() and args.search:
                criteria = [*criteria, "TEXT", _quoted(args.search)]
            elif args.search:  # other letters go as a UTF-8 literal
                box.literal = args.search.encode()  # type: ignore[assignment]
                criteria = ["CHARSET", "UTF-8", *criteria, "TEXT"]
            status, data = box.uid("SEARCH", *criteria)
            uids = [int(u) for u in (data[0] or b"").split()] if status == "OK" else []
            wanted = sorted(uids, reverse=True)[: args.limit]
            heads: dict[int, tuple[bytes, bytes]] = {}  # uid -> (flags line, header), one FETCH
            if wanted:
                _, data = box.uid(
                    "FETCH", ",".join(map(str, wanted)),
                    "(FLAGS BODY.PEEK[HEADER.FIELDS (FROM DATE SUBJECT)])",
                )  # fmt: skip
                for part in data or []:
                    if isinstance(part, tuple) and (m := re.search(rb"UID (\d+)", part[0])):
                        heads[int(m.group(1))] = (part[0], bytes(part[1]))
            lines = []
            for uid in (u for u in wanted if u in heads):
                flags, raw = heads[uid]
                head = email.message_from_bytes(raw, policy=email.policy.default)
                unread = "" if b"\\Seen" in flags else " (unread)"
                lines.append(
                    f"[{uid}] {_date(head.get('Date'))} | {head.get('From', '?')} | "
                    f"{head.get('Subject', '(no subject)')}{unread}"
                )
        finally:
            _logout(box)
        what = f" matching {args.search!r}" if args.search else ""
        shown = f"{len(lines)} of {len(uids)}" if len(uids) > len(lines) else f"{len(uids)}"
        top = f"{args.folder} of {account.address} ({_where(account, True)}): {shown} message(s){what}"
        return "\n".join([top, *lines])

    return ToolResult(output=await _talk(account, True, run))


def _date(value: str | None) -> str:
    try:
        return parsedate_to_datetime(value or "").strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return value or "?"


def _logout(box: imaplib.IMAP4) -> None:
    try:
        box.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


class ReadArgs(BaseModel):
    uid: int = Field(description="The message's uid, as mail_inbox lists it: 12 for [12].")
    folder: str = Field(default="INBOX", description="The folder mail_inbox listed it in.")
    save_attachments: bool = Field(
        default=False, description="Save its attachments into the workspace's downloads folder."
    )


@tool(name="mail_read", group="mail", read_only=True)
async def mail_read(ctx: ToolContext, args: ReadArgs) -> ToolResult:
    """Read one message: its sender, recipients, date, subject and text (and its attachments'
    names). Answer it with mail_send and reply_to set to its uid."""
    account = _account(ctx, imap=True)

    def run() -> tuple[str, list[str]]:
        box = _imap(account)
        try:
            _select(box, args.folder)
            raw = _fetch(box, args.uid, "(BODY.PEEK[])")
        finally:
            _logout(box)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        lines = [f"Message [{args.uid}] in {args.folder}"]
        for name in ("From", "Reply-To", "To", "Cc", "Date", "Subject"):
            if msg.get(name):
                lines.append(f"{name}: {msg.get(name)}")
        body = _body_text(msg)
        if len(body) > _BODY_CHARS:
            body = body[:_BODY_CHARS] + f"\n[... {len(body) - _BODY_CHARS} more characters]"
        lines += ["", body or "(no text)"]
        saved: list[str] = []
        parts = _attachments(msg)
        if parts:
            lines.append("")
            for part in parts:
                name = part.get_filename() or "attachment"
                data = part.get_payload(decode=True) or b""
                lines.append(f"Attachment: {name} ({len(data)} bytes)")
                if args.save_attachments:
                    saved.append(_save(ctx, name, bytes(data)))
        if saved:
            lines.append("Saved: " + ", ".join(saved))
        return "\n".join(lines), saved

    text, saved = await _talk(account, True, run)
    return ToolResult(output=text, artifacts=saved)


def _save(ctx: ToolContext, name: str, data: bytes) -> str:
    safe = re.sub(r"[^\w.\- ]", "_", name.rsplit("/", 1)[-1]).strip(". ") or "attachment"
    rel = f"{ctx.settings.downloads_dir}/{safe}"
    real = ctx.sandbox.resolve(rel)
    real.parent.mkdir(parents=True, exist_ok=True)
    real.write_bytes(data)
    return rel


_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _addresses(value: str | list[str]) -> list[str]:
    """The addresses of "a@b.c, Kim <k@b.c>" or a list of them; a ValueError names the first
    entry that is no address."""
    items = [value] if isinstance(value, str) else value
    out = []
    for entry in (e.strip() for item in items for e in re.split(r"[,;]", item)):
        if not entry:
            continue
        address = parseaddr(entry)[1].strip()
        if not _ADDRESS.match(address):
            raise ValueError(f"not an e-mail address: {entry!r}")
        out.append(address)
    return out


class SendArgs(BaseModel):
    to: str | list[str] = Field(
        default="", description="Recipient address(es); may stay empty when reply_to is set."
    )
    subject: str = Field(default="", description="The subject line.")
    body: str = Field(description="The message's text.")
    cc: str | list[str] = Field(default="", description="More recipients, in copy.")
    attach: list[str] = Field(default_factory=list, description="Workspace files to attach.")
    reply_to: int | None = Field(
        default=None,
        description="The uid (INBOX) of the message this answers: its sender is the "
        "recipient when 'to' is empty, and the subject is 'Re: <its subject>' when empty.",
    )

    @field_validator("to", "cc")
    @classmethod
    def _valid(cls, value: str | list[str]) -> list[str]:
        return _addresses(value)


@tool(name="mail_send", group="mail", read_only=False)
async def mail_send(ctx: ToolContext, args: SendArgs) -> ToolResult:
    """Send an e-mail from the task's account (SMTP): to, subject, body, optionally cc,
    workspace files to attach, and reply_to (the uid of the message it answers)."""
    account = _account(ctx)
    to, cc = list(args.to), list(args.cc)
    msg = EmailMessage()
    subject = args.subject
    if args.reply_to is not None:
        imap = _account(ctx, imap=True)
        original = await _talk(imap, True, lambda: _original(imap, args.reply_to or 0))
        sender = original.get("Reply-To") or original.get("From") or ""
        to = to or [a for _, a in getaddresses([sender]) if a]
        subject = subject or _re(original.get("Subject", ""))
        if original.get("Message-ID"):
            msg["In-Reply-To"] = original["Message-ID"]
            msg["References"] = " ".join(
                x for x in (original.get("References"), original["Message-ID"]) if x
            )
    if not to:
        raise ToolError("no recipient: give 'to' (an address), or reply_to (a message's uid)")
    msg["From"] = formataddr(("", account.address))
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject or "(no subject)"
    msg["Message-ID"] = make_msgid(domain=account.address.rsplit("@", 1)[-1])
    msg.set_content(args.body)
    for path in args.attach:
        real = existing_file(ctx.sandbox, path)
        check_size(real, ctx.settings.max_file_bytes, path)
        kind, _ = mimetypes.guess_type(real.name)
        main, sub = (kind or "application/octet-stream").split("/", 1)
        data = read_bytes(real, ctx.settings.max_file_bytes)
        msg.add_attachment(data, maintype=main, subtype=sub, filename=real.name)

    def run() -> None:
        try:
            if account.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    account.smtp_host, account.smtp_port, timeout=TIMEOUT_S
                )
            else:
                smtp = smtplib.SMTP(account.smtp_host, account.smtp_port, timeout=TIMEOUT_S)
            with smtp:
                smtp.ehlo()
                if account.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if account.password.get_secret_value() and smtp.has_extn("auth"):
                    smtp.login(account.user, account.password.get_secret_value())
                smtp.send_message(msg, from_addr=account.address, to_addrs=[*to, *cc])
        except (OSError, smtplib.SMTPException) as exc:
            raise ToolError(f"{_where(account, False)} did not take the message: {exc}") from exc

    await _talk(account, False, run)
    names = f" with {', '.join(args.attach)}" if args.attach else ""
    return ToolResult(
        output=(
            f"Mail sent to {', '.join(to)}{' (cc ' + ', '.join(cc) + ')' if cc else ''} from "
            f"{account.address} via {_where(account, False)}: {msg['Subject']!r}{names}"
        )
    )


def _original(account: MailAccount, uid: int) -> EmailMessage:
    box = _imap(account)
    try:
        _select(box, "INBOX")
        raw = _fetch(box, uid, "(BODY.PEEK[HEADER])")
    finally:
        _logout(box)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _re(subject: str) -> str:
    return subject if re.match(r"(?i)re:", subject.strip()) else f"Re: {subject}".strip()


MAIL_TOOLS: list[Tool] = [mail_inbox, mail_read, mail_send]
