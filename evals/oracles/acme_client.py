#!/usr/bin/env python3
"""A small stdlib-only client for Acme Corp's apps, run by oracle solutions through the
``shell_run`` tool (as an agent with a shell could): Trac forms, WebDAV, SMTP, IMAP,
CalDAV and XMPP. Usage: ``python3 acme_client.py COMMAND --help``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import email
import email.policy
import imaplib
import io
import json
import re
import smtplib
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

TOKEN = "0123456789abcdef01234567"


def _http(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _trac_post(url: str, fields: list[tuple[str, str]]):
    body = urllib.parse.urlencode([("__FORM_TOKEN", TOKEN), *fields]).encode()
    headers = {
        "Cookie": f"trac_form_token={TOKEN}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, head, text = _http("POST", url, body, headers)
    if status not in (200, 303):
        sys.exit(f"POST {url} failed: HTTP {status}")
    if status == 200:
        warnings = re.findall(
            r'<div class="system-message[^"]*"[^>]*>(.*?)</div>', text.decode(), re.S
        )
        if warnings:
            sys.exit("Trac refused: " + re.sub(r"<[^>]+>|\s+", " ", warnings[0]).strip())
    return status, head


def _pairs(values: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for item in values or []:
        key, _, value = item.partition("=")
        out.append((key, value))
    return out


def trac_new(a):
    fields = [(f"field_{k}", v) for k, v in _pairs(a.field)] + [("submit", "Create ticket")]
    _, head = _trac_post(f"{a.url}/newticket", fields)
    location = head.get("Location", "")
    match = re.search(r"/ticket/(\d+)", location)
    if not match:
        sys.exit(f"ticket not created (redirect {location!r})")
    print(match.group(1))


def trac_update(a):
    status, _, page = _http("GET", f"{a.url}/ticket/{a.id}")
    match = re.search(rb'name="view_time"\s+value="(\d+)"', page)
    if status != 200 or not match:
        sys.exit(f"ticket {a.id} not found")
    fields = [("view_time", match.group(1).decode()), ("comment", a.comment or "")]
    fields += [(f"field_{k}", v) for k, v in _pairs(a.field)]
    action = a.action or "leave"
    fields.append(("action", action))
    if action == "resolve":
        fields.append(("action_resolve_resolve_resolution", a.resolution or "fixed"))
    if action == "reassign":
        fields.append(("action_reassign_reassign_owner", a.owner))
    fields.append(("submit", "Submit changes"))
    _trac_post(f"{a.url}/ticket/{a.id}", fields)
    print(f"ticket {a.id} updated")


def trac_wiki(a):
    text = open(a.text_file).read() if a.text_file else a.text
    _status, _, page = _http("GET", f"{a.url}/wiki/{a.name}?action=edit")
    match = re.search(rb'name="version"\s+value="(\d+)"', page)
    version = match.group(1).decode() if match else "0"
    fields = [("action", "edit"), ("version", version), ("text", text), ("comment", "")]
    _trac_post(f"{a.url}/wiki/{a.name}", [*fields, ("save", "Submit changes")])
    print(f"wiki page {a.name} saved")


def trac_milestone(a):
    fields = [("name", a.name), ("add", "Add")]
    if a.due:
        fields += [("due", "on"), ("duedate", a.due)]
    _trac_post(f"{a.url}/admin/ticket/milestones", fields)
    if a.description:
        fields = [("action", "edit"), ("name", a.name), ("description", a.description)]
        if a.due:
            fields += [("due", "on"), ("duedate", a.due)]
        _trac_post(
            f"{a.url}/milestone/{urllib.parse.quote(a.name)}", [*fields, ("save", "Submit changes")]
        )
    print(f"milestone {a.name} saved")


def trac_query(a):
    cols = [
        "id",
        "summary",
        "status",
        "owner",
        "priority",
        "component",
        "milestone",
        "keywords",
        "resolution",
        "type",
    ]
    query = urllib.parse.quote(a.query, safe="=&!~^$|")
    query += "".join(f"&col={c}" for c in cols) + "&max=0&format=csv"
    status, _, body = _http("GET", f"{a.url}/query?{query}")
    if status != 200:
        sys.exit(f"query failed: HTTP {status}")
    rows = [
        {k.lower(): v for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    ]
    print(json.dumps(rows))


def trac_ticket(a):
    status, _, body = _http("GET", f"{a.url}/ticket/{a.id}?format=csv")
    if status != 200:
        sys.exit(f"ticket {a.id}: HTTP {status}")
    print(json.dumps(next(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))))


def dav_get(a):
    status, _, body = _http("GET", f"{a.url}/{urllib.parse.quote(a.path)}")
    if status != 200:
        sys.exit(f"GET {a.path}: HTTP {status}")
    sys.stdout.write(body.decode(errors="replace"))


def dav_list(a):
    status, _, body = _http(
        "PROPFIND", f"{a.url}/{urllib.parse.quote(a.path)}", headers={"Depth": "1"}
    )
    if status != 207:
        sys.exit(f"PROPFIND {a.path}: HTTP {status}")
    for href in re.findall(rb"<[^>]*href>([^<]+)</[^>]*href>", body):
        print(urllib.parse.unquote(href.decode()))


def dav_put(a):
    parts = a.path.strip("/").split("/")
    for i in range(1, len(parts)):
        _http("MKCOL", f"{a.url}/" + urllib.parse.quote("/".join(parts[:i])) + "/")
    data = open(a.file, "rb").read()
    status, _, _ = _http("PUT", f"{a.url}/{urllib.parse.quote(a.path)}", data)
    if status not in (200, 201, 204):
        sys.exit(f"PUT {a.path}: HTTP {status}")
    print(f"uploaded {a.path}")


def mail_send(a):
    msg = EmailMessage()
    msg["From"] = a.sender
    msg["To"] = ", ".join(a.to)
    if a.cc:
        msg["Cc"] = ", ".join(a.cc)
    msg["Subject"] = a.subject
    msg.set_content(open(a.body_file).read() if a.body_file else a.body)
    with smtplib.SMTP(a.host, a.port, timeout=30) as smtp:
        smtp.send_message(msg)
    print("sent")


def mail_list(a):
    imap = imaplib.IMAP4(a.host, a.port)
    imap.login(a.user, a.password)
    imap.select("INBOX", readonly=True)
    _, data = imap.search(None, "ALL")
    out = []
    for num in data[0].split():
        _, parts = imap.fetch(num, "(RFC822)")
        raw = parts[0][1] if parts and isinstance(parts[0], tuple) else b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        out.append(
            {
                "from": msg["From"],
                "subject": msg["Subject"],
                "body": body.get_content() if body else "",
            }
        )
    imap.logout()
    print(json.dumps(out))


def cal_put(a):
    data = open(a.ics_file, "rb").read()
    url = f"{a.url}/{a.user}/{a.calendar}/{a.uid}.ics"
    status, _, _ = _http("PUT", url, data, {"Content-Type": "text/calendar"})
    if status not in (200, 201, 204):
        sys.exit(f"PUT {url}: HTTP {status}")
    print(f"event {a.uid} stored")


def chat_send(a):
    sock = socket.create_connection(("127.0.0.1", a.port), timeout=15)
    buf = b""

    def read_until(pattern: bytes) -> bytes:
        nonlocal buf
        deadline = time.time() + a.wait
        while not re.search(pattern, buf, re.S):
            if time.time() > deadline:
                sys.exit(f"chat: no {pattern!r} from the server")
            sock.settimeout(max(0.1, deadline - time.time()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                sys.exit("chat: connection closed")
            buf += chunk
        got, buf = buf, b""
        return got

    opener = (
        f"<?xml version='1.0'?><stream:stream to='{a.domain}' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    ).encode()
    sock.sendall(opener)
    read_until(rb"</stream:features>")
    token = base64.b64encode(f"\0{a.user}\0{a.password}".encode()).decode()
    sock.sendall(
        f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode()
    )
    if b"<success" not in read_until(rb"<success|<failure"):
        sys.exit("chat: login failed")
    sock.sendall(opener)
    read_until(rb"</stream:features>")
    sock.sendall(
        b"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>cli</resource></bind></iq>"
    )
    read_until(rb"bind1")
    sock.sendall(b"<presence/>")
    body = a.body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    to = a.to if "@" in a.to else f"{a.to}@{a.domain}"
    sock.sendall(f"<message to='{to}' type='chat' id='m1'><body>{body}</body></message>".encode())
    if a.expect_reply:
        got = read_until(
            rb"<message[^>]*from=.%s[^>]*>.*?<body>.*?</body>" % re.escape(to.encode())
        )
        match = re.search(
            rb"<body>(.*?)</body>",
            got.split(b"from='" + to.encode())[-1].split(b'from="' + to.encode())[-1],
            re.S,
        )
        reply = match.group(1).decode() if match else ""
        print(
            reply.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&apos;", "'")
            .replace("&quot;", '"')
            .replace("&amp;", "&")
        )
    else:
        time.sleep(0.3)
        print("sent")
    sock.sendall(b"</stream:stream>")
    sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    def cmd(name, fn, *args):
        p = sub.add_parser(name)
        p.set_defaults(fn=fn)
        for flags, kwargs in args:
            p.add_argument(*flags, **kwargs)
        return p

    url = (["--url"], {"required": True})
    cmd("trac-new", trac_new, url, (["--field"], {"action": "append"}))
    cmd(
        "trac-update",
        trac_update,
        url,
        (["--id"], {"required": True}),
        (["--comment"], {}),
        (["--action"], {}),
        (["--resolution"], {}),
        (["--owner"], {}),
        (["--field"], {"action": "append"}),
    )
    cmd(
        "trac-wiki",
        trac_wiki,
        url,
        (["--name"], {"required": True}),
        (["--text"], {"default": ""}),
        (["--text-file"], {}),
    )
    cmd(
        "trac-milestone",
        trac_milestone,
        url,
        (["--name"], {"required": True}),
        (["--due"], {}),
        (["--description"], {}),
    )
    cmd("trac-query", trac_query, url, (["--query"], {"default": "status=!closed"}))
    cmd("trac-ticket", trac_ticket, url, (["--id"], {"required": True}))
    cmd("dav-get", dav_get, url, (["--path"], {"required": True}))
    cmd("dav-list", dav_list, url, (["--path"], {"default": ""}))
    cmd("dav-put", dav_put, url, (["--path"], {"required": True}), (["--file"], {"required": True}))
    cmd(
        "mail-send",
        mail_send,
        (["--host"], {"default": "127.0.0.1"}),
        (["--port"], {"type": int, "required": True}),
        (["--sender"], {"required": True}),
        (["--to"], {"action": "append", "required": True}),
        (["--cc"], {"action": "append"}),
        (["--subject"], {"required": True}),
        (["--body"], {"default": ""}),
        (["--body-file"], {}),
    )
    cmd(
        "mail-list",
        mail_list,
        (["--host"], {"default": "127.0.0.1"}),
        (["--port"], {"type": int, "required": True}),
        (["--user"], {"required": True}),
        (["--password"], {"required": True}),
    )
    cmd(
        "cal-put",
        cal_put,
        url,
        (["--user"], {"required": True}),
        (["--calendar"], {"default": "calendar"}),
        (["--uid"], {"required": True}),
        (["--ics-file"], {"required": True}),
    )
    cmd(
        "chat-send",
        chat_send,
        (["--port"], {"type": int, "required": True}),
        (["--domain"], {"default": "acme.test"}),
        (["--user"], {"required": True}),
        (["--password"], {"required": True}),
        (["--to"], {"required": True}),
        (["--body"], {"required": True}),
        (["--expect-reply"], {"action": "store_true"}),
        (["--wait"], {"type": float, "default": 15.0}),
    )
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
