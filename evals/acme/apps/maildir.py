"""Maildir helpers shared by the SMTP receiver, the seeder and the graders."""

from __future__ import annotations

import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

MAIL_UID = 8  # Debian's `mail` user: Dovecot reads and writes the Maildirs as this uid
OUTBOUND = "_outbound"  # mail for addresses outside acme.test lands here


def maildir_path(root: Path, user: str) -> Path:
    """The Maildir of ``user`` under the mail app's ``maildirs`` folder."""
    return root / user / "Maildir"


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, MAIL_UID, MAIL_UID)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), MAIL_UID, MAIL_UID, follow_symlinks=False)


def open_maildir(root: Path, user: str) -> mailbox.Maildir:
    """Open (creating if needed) a user's Maildir, owned by the mail uid when we are root."""
    path = maildir_path(root, user)
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(path, create=True)
    _chown_tree(path.parent)
    return box


def deliver(root: Path, user: str, message: bytes | EmailMessage, *, seen: bool = False) -> str:
    """Store one message in a user's inbox and return its key."""
    box = open_maildir(root, user)
    msg = mailbox.MaildirMessage(message)
    if seen:
        msg.set_subdir("cur")
        msg.add_flag("S")
    key = box.add(msg)
    _chown_tree(maildir_path(root, user))
    return key


def fix_ownership(root: Path) -> None:
    """Give every Maildir to the mail uid (after a restore or a seed written as root)."""
    if root.exists():
        _chown_tree(root)
