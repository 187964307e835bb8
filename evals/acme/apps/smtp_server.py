"""An SMTP receiver (aiosmtpd) that delivers each message into the recipients' Maildirs.

Run as ``python -m evals.acme.apps.smtp_server --port P --root MAILDIRS``. Mail for a
known ``@acme.test`` user goes to that user's inbox; anything else goes to the
``_outbound`` Maildir, where graders find mail sent outside the company.

The tasks say the SMTP server takes the webmail's login ("without TLS, same login"), so it
offers AUTH PLAIN and LOGIN without TLS and checks the employee's password; a client that
does not log in is still served, as before (the 1.5B model's ``s.login(...)`` failed with
"SMTP AUTH extension not supported by server" when it offered none).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from evals.acme.apps.maildir import OUTBOUND, deliver
from evals.acme.company import DOMAIN, EMPLOYEES

_USERS = {emp.user for emp in EMPLOYEES}


class MaildirHandler:
    """aiosmtpd handler: accept any recipient, write the message into a Maildir."""

    def __init__(self, root: Path):
        self.root = root

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        header = f"X-Acme-Envelope-From: {envelope.mail_from}\r\n"
        header += f"X-Acme-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        for rcpt in envelope.rcpt_tos:
            local, _, domain = rcpt.lower().partition("@")
            user = local if domain == DOMAIN and local in _USERS else OUTBOUND
            deliver(self.root, user, header.encode() + data)
        return "250 Message accepted for delivery"


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    """aiosmtpd authenticator: an employee's user name (or address) and password."""
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    login = auth_data.login.decode(errors="replace").lower()
    user = login.removesuffix("@" + DOMAIN)
    ok = any(
        emp.user == user and emp.password == auth_data.password.decode(errors="replace")
        for emp in EMPLOYEES
    )
    return AuthResult(success=ok, handled=False)


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(
        MaildirHandler(args.root),
        hostname="127.0.0.1",
        port=args.port,
        authenticator=check_login,
        auth_require_tls=False,  # the tasks' "without TLS, same login"
        auth_required=False,
    )
    controller.start()
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
