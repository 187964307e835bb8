"""Chat: Prosody (XMPP) serving converse.js 14, plus scripted colleague bots (slixmpp).

converse.js 14 is an ES module: the page loads it with ``<script type="module">`` and
blacklists ``converse-omemo``, without which "Start a new chat" silently does nothing.
The bots answer by rules from ``<data>/bots.json`` and log every message they receive
to ``<data>/chatlog.jsonl`` (what graders read).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from evals.acme.apps.base import App, ProcSpec, ReadyCheck
from evals.acme.company import DOMAIN, EMPLOYEES
from evals.acme.errors import MissingDependency
from evals.acme.paths import converse_dist

MUC_DOMAIN = f"conference.{DOMAIN}"


def chat_log(data: Path) -> Path:
    """The JSONL log of every message a bot received."""
    return data / "chatlog.jsonl"


def bots_file(data: Path) -> Path:
    """The bots' rules (written by a task's seed; none means no bots)."""
    return data / "bots.json"


def bots_ready_file(data: Path) -> Path:
    """Written by the bots process once every bot is online."""
    return data / "bots.ready"


def _bots(data: Path) -> list[dict[str, object]]:
    path = bots_file(data)
    return list(json.loads(path.read_text())) if path.exists() else []


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


class Chat(App):
    """Prosody with plaintext auth on loopback, websocket + BOSH, MUC, and converse.js."""

    name = "chat"
    port_names = ("c2s", "http")
    programs = (("prosody", "prosody"),)

    def check_dependencies(self) -> None:
        super().check_dependencies()
        if not (converse_dist() / "converse.min.js").exists():
            raise MissingDependency(f"converse.js ({converse_dist()})")

    def initialize(self, data: Path) -> None:
        accounts = data / "prosody" / DOMAIN.replace(".", "%2e") / "accounts"
        accounts.mkdir(parents=True)
        for emp in EMPLOYEES:
            (accounts / f"{emp.user}.dat").write_text(
                f'return {{\n\t["password"] = {_lua(emp.password)};\n}};\n'
            )
        # everyone has every colleague as a mutual contact, so chats start from the roster
        rosters = accounts.parent / "roster"
        rosters.mkdir()
        for emp in EMPLOYEES:
            items = "".join(
                f'\t[{_lua(o.email)}] = {{ ["subscription"] = "both"; ["name"] = {_lua(o.name)};'
                f' ["groups"] = {{ [{_lua(o.department)}] = true }}; }};\n'
                for o in EMPLOYEES
                if o.user != emp.user
            )
            (rosters / f"{emp.user}.dat").write_text(
                f'return {{\n\t[false] = {{ ["version"] = 1; ["pending"] = {{}}; }};\n{items}}};\n'
            )
        bots_file(data).write_text("[]")
        chat_log(data).touch()

    def configure(self, data: Path, conf: Path, ports: dict[str, int]) -> None:
        (conf / "certs").mkdir(parents=True, exist_ok=True)
        www = conf / "www"
        www.mkdir(parents=True, exist_ok=True)
        dist = www / "dist"
        if not dist.exists():
            dist.symlink_to(converse_dist(), target_is_directory=True)
        options = {
            "websocket_url": f"ws://127.0.0.1:{ports['http']}/xmpp-websocket",
            "view_mode": "fullscreen",
            "authentication": "login",
            "auto_login": False,
            "discover_connection_methods": False,
            "default_domain": DOMAIN,
            "locked_domain": DOMAIN,
            "muc_domain": MUC_DOMAIN,
            "blacklisted_plugins": ["converse-omemo"],
            "allow_registration": False,
            "play_sounds": False,
            "show_controlbox_by_default": True,
            "i18n": "en",
        }
        (www / "index.html").write_text(
            "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<title>Acme Chat</title>\n"
            "<link rel='stylesheet' href='/dist/converse.min.css'>\n"
            "<script type='module' src='/dist/converse.min.js'></script>\n</head>\n"
            "<body class='converse-fullscreen'>\n<script type='module'>\n"
            f"converse.initialize({json.dumps(options)});\n</script>\n</body></html>\n"
        )
        (conf / "prosody.cfg.lua").write_text(
            f"""-- written by evals.acme for one run folder
run_as_root = true
daemonize = false
pidfile = {_lua(str(conf / "prosody.pid"))}
data_path = {_lua(str(data / "prosody"))}
log = {{ info = "*console" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {ports["c2s"]} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
http_ports = {{ {ports["http"]} }}
http_interfaces = {{ "127.0.0.1" }}
https_ports = {{ }}
http_default_host = {_lua(DOMAIN)}
http_files_dir = {_lua(str(www))}
http_paths = {{ files = "/"; websocket = "/xmpp-websocket"; bosh = "/http-bind" }}
consider_websocket_secure = true
consider_bosh_secure = true
certificates = {_lua(str(conf / "certs"))}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
archive_expires_after = "never"
modules_enabled = {{
  "roster"; "saslauth"; "disco"; "ping"; "pep"; "private"; "vcard_legacy";
  "mam"; "carbons"; "smacks"; "websocket"; "bosh"; "http_files"; "time"; "version";
}}
modules_disabled = {{ "s2s"; "tls"; "offline" }}
VirtualHost {_lua(DOMAIN)}
Component {_lua(MUC_DOMAIN)} "muc"
  modules_enabled = {{ "muc_mam" }}
"""
        )

    def processes(self, data: Path, conf: Path, ports: dict[str, int]) -> list[ProcSpec]:
        specs = [
            ProcSpec(
                name="prosody", argv=["prosody", "-F", "--config", str(conf / "prosody.cfg.lua")]
            )
        ]
        bots_ready_file(data).unlink(missing_ok=True)
        if _bots(data):
            argv = [sys.executable, "-m", "evals.acme.apps.chat_bots", "--port", str(ports["c2s"])]
            argv += ["--bots", str(bots_file(data)), "--log", str(chat_log(data))]
            argv += ["--ready", str(bots_ready_file(data))]
            specs.append(
                ProcSpec(name="bots", argv=argv, env={"PYTHONPATH": str(Path(__file__).parents[3])})
            )
        return specs

    def ready_checks(self, data: Path, ports: dict[str, int]) -> list[ReadyCheck]:
        checks = [ReadyCheck(port=ports["c2s"]), ReadyCheck(port=ports["http"], http_path="/")]
        if _bots(data):
            checks.append(ReadyCheck(file=bots_ready_file(data)))
        return checks

    def urls(self, ports: dict[str, int]) -> dict[str, str]:
        return {
            "chat_url": f"http://127.0.0.1:{ports['http']}",
            "xmpp_port": str(ports["c2s"]),
            "xmpp_domain": DOMAIN,
        }
