"""Mail: an aiosmtpd receiver into Maildirs, Dovecot IMAP, and Roundcube webmail on PHP.

Dovecot serves the Maildirs as Debian's ``mail`` user (uid 8), so the Maildirs must be
reachable by that uid: when the run folder is private to root (``/root/...``, pytest's
temp folders), the mail data lives in ``/var/tmp/journeyman-acme-mail/<hash>`` instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

from evals.acme.apps.base import App, ProcSpec, ReadyCheck
from evals.acme.apps.maildir import OUTBOUND, fix_ownership, open_maildir
from evals.acme.company import DOMAIN, EMPLOYEES

ROUNDCUBE_HOME = Path("/var/lib/roundcube")
ROUNDCUBE_SQL = Path("/usr/share/roundcube/SQL/sqlite.initial.sql")
ROUNDCUBE_DEFAULTS = Path("/etc/roundcube/defaults.inc.php")


def maildirs(data: Path) -> Path:
    """The folder of all Maildirs (``<user>/Maildir``; ``_outbound`` for outside mail)."""
    return data / "maildirs"


def _base_dir(conf: Path) -> Path:
    """Dovecot's socket folder: Unix socket paths must be short, so it lives in /tmp."""
    short = hashlib.sha256(str(conf.resolve()).encode()).hexdigest()[:10]
    return Path("/tmp") / f"jm-dovecot-{short}"


def _traversable_by_others(path: Path) -> bool:
    for part in [path, *path.parents]:
        if part.exists() and not part.stat().st_mode & stat.S_IXOTH:
            return False
    return True


class Mail(App):
    """SMTP (aiosmtpd), IMAP (Dovecot) and webmail (Roundcube) over one set of Maildirs."""

    name = "mail"
    port_names = ("smtp", "imap", "http")
    programs = (("dovecot", "dovecot-imapd"), ("php", "php-cli"))

    def check_dependencies(self) -> None:
        super().check_dependencies()
        from evals.acme.errors import MissingDependency

        for path in (ROUNDCUBE_HOME / "index.php", ROUNDCUBE_SQL, ROUNDCUBE_DEFAULTS):
            if not path.exists():
                raise MissingDependency(f"{path} (Debian package roundcube-core) needed by mail")

    def data_location(self, run_dir: Path) -> Path:
        """Where the mail data lives: in the run folder unless uid 8 could not reach it."""
        if os.geteuid() != 0 or _traversable_by_others(run_dir):
            return run_dir / self.name
        digest = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:12]
        base = Path("/var/tmp/journeyman-acme-mail")
        base.mkdir(mode=0o755, exist_ok=True)
        os.chmod(base, 0o755)
        return base / digest

    def initialize(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(data, 0o755)
        for emp in EMPLOYEES:
            open_maildir(maildirs(data), emp.user)
        open_maildir(maildirs(data), OUTBOUND)
        db = sqlite3.connect(data / "roundcube.db")
        db.executescript(ROUNDCUBE_SQL.read_text())
        db.close()

    def cleanup(self, conf: Path) -> None:
        shutil.rmtree(_base_dir(conf), ignore_errors=True)

    def after_restore(self, data: Path) -> None:
        """Dovecot must own the Maildirs it indexes."""
        os.chmod(data, 0o755)
        fix_ownership(maildirs(data))

    def configure(self, data: Path, conf: Path, ports: dict[str, int]) -> None:
        conf.mkdir(parents=True, exist_ok=True)
        base_dir = _base_dir(conf)
        base_dir.mkdir(exist_ok=True)
        # Dovecot's auth and state processes run as its own users: keep their files in the
        # data folder, which uid 8 can reach, not in the (maybe private) run folder
        private = data / ".dovecot"
        (private / "state").mkdir(parents=True, exist_ok=True)
        os.chmod(private, 0o755)
        (private / "passwd").write_text(
            "".join(f"{e.user}:{{PLAIN}}{e.password}::::::\n" for e in EMPLOYEES)
        )
        os.chmod(private / "passwd", 0o644)
        mail_uid = "mail" if os.geteuid() == 0 else str(os.geteuid())
        (conf / "dovecot.conf").write_text(
            f"""# written by evals.acme for one run folder
protocols = imap
listen = 127.0.0.1
base_dir = {base_dir}
state_dir = {private / "state"}
log_path = {conf / "dovecot.log"}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_internal_user = {"dovecot" if os.geteuid() == 0 else mail_uid}
default_login_user = {"dovenull" if os.geteuid() == 0 else mail_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {private / "passwd"}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_uid} home={maildirs(data)}/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports["imap"]}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
"""
        )
        rc = conf / "roundcube"
        (rc / "logs").mkdir(parents=True, exist_ok=True)
        (rc / "temp").mkdir(exist_ok=True)
        defaults = rc / "defaults.inc.php"
        if not defaults.exists():
            defaults.symlink_to(ROUNDCUBE_DEFAULTS)
        (rc / "config.inc.php").write_text(
            f"""<?php
$config = [];
$config['db_dsnw'] = 'sqlite:///{data / "roundcube.db"}?mode=0646';
$config['imap_host'] = '127.0.0.1:{ports["imap"]}';
$config['smtp_host'] = '127.0.0.1:{ports["smtp"]}';
$config['smtp_user'] = '';
$config['smtp_pass'] = '';
$config['mail_domain'] = '{DOMAIN}';
$config['username_domain'] = '';
$config['des_key'] = 'acme-corp-roundcube-key!';
$config['product_name'] = 'Acme Mail';
$config['plugins'] = [];
$config['skin'] = 'elastic';
$config['log_dir'] = '{rc / "logs"}/';
$config['temp_dir'] = '{rc / "temp"}/';
$config['enable_installer'] = false;
$config['support_url'] = '';
$config['request_path'] = '/';
$config['use_https'] = false;
$config['session_lifetime'] = 600;
"""
        )
        (rc / "prepend.php").write_text(
            f"<?php\ndefine('RCMAIL_CONFIG_DIR', '{rc}');\ndefine('INSTALL_PATH', '{ROUNDCUBE_HOME}/');\n"
        )

    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        smtp = [sys.executable, "-m", "evals.acme.apps.smtp_server"]
        smtp += ["--port", str(ports["smtp"]), "--root", str(maildirs(data))]
        rc = conf / "roundcube"
        php = ["php", "-S", f"127.0.0.1:{ports['http']}", "-t", str(ROUNDCUBE_HOME)]
        php += ["-d", f"auto_prepend_file={rc / 'prepend.php'}", "-d", "display_errors=0"]
        return [
            ProcSpec(name="smtp", argv=smtp, env={"PYTHONPATH": str(Path(__file__).parents[3])}),
            ProcSpec(name="dovecot", argv=["dovecot", "-F", "-c", str(conf / "dovecot.conf")]),
            ProcSpec(name="roundcube", argv=php, env={"PHP_CLI_SERVER_WORKERS": "4"}),
        ]

    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        return [
            ReadyCheck(port=ports["smtp"]),
            ReadyCheck(port=ports["imap"]),
            ReadyCheck(port=ports["http"], http_path="/"),
        ]

    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        return {
            "webmail_url": f"http://127.0.0.1:{ports['http']}",
            "smtp_host": "127.0.0.1",
            "smtp_port": str(ports["smtp"]),
            "imap_port": str(ports["imap"]),
        }
