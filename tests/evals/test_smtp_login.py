"""The company's SMTP server takes the login the tasks give ("without TLS, same login"), and
still serves a client that does not log in (a real aiosmtpd process, real smtplib)."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from evals.acme._process import free_port, port_in_use
from evals.acme.apps.maildir import open_maildir
from evals.acme.company import EMPLOYEES


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, root = free_port(), tmp_path / "mail"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "evals.acme.apps.smtp_server",
            "--port",
            str(port),
            "--root",
            str(root),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not port_in_use(port):
            assert proc.poll() is None and time.monotonic() < deadline, "smtp server did not start"
            time.sleep(0.1)
        yield port, root
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _mail(to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alex@acme.test", to, subject
    msg.set_content("Access granted, ref REQ-1.")
    return msg


def test_login_as_the_task_gives_it_and_without_one(smtp: tuple[int, Path]) -> None:
    port, root = smtp
    someone = next(e for e in EMPLOYEES if e.user != "alex")
    alex = next(e for e in EMPLOYEES if e.user == "alex")
    to = f"{someone.user}@acme.test"
    for login in (alex.user, "alex@acme.test"):  # the user name, or the address
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.login(login, alex.password)
            s.send_message(_mail(to, f"as {login}"))
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(alex.user, "not-the-password")
        s.send_message(_mail(to, "without a login"))  # as before: no login needed
    subjects = sorted(m["Subject"] for m in open_maildir(root, someone.user))
    assert subjects == ["as alex", "as alex@acme.test", "without a login"]
