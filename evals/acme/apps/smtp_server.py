"""An SMTP receiver (aiosmtpd) that delivers each message into the recipients' Maildirs.

Run as ``python -m evals.acme.apps.smtp_server --port P --root MAILDIRS``. Mail for a
known ``@acme.test`` user goes to that user's inbox; anything else goes to the
``_outbound`` Maildir, where graders find mail sent outside the company.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

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


def main() -> None:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(MaildirHandler(args.root), hostname="127.0.0.1", port=args.port)
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
