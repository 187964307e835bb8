"""Scripted colleagues on the chat server: answer by rules, log every message received.

``python -m evals.acme.apps.chat_bots --port P --bots bots.json --log chatlog.jsonl``.
``bots.json`` is a list of :class:`BotSpec`. A rule matches a regular expression
(case-insensitive) against the message body; the first match's reply is sent, else the
bot's default reply (if any). ``{sender}`` in a reply is the sender's user name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from evals.acme.company import DOMAIN, employee


class BotRule(BaseModel):
    """Reply ``reply`` to a message whose body matches ``match``."""

    match: str
    reply: str


class BotSpec(BaseModel):
    """One colleague played by a bot."""

    user: str
    rules: list[BotRule] = Field(default_factory=list)
    default_reply: str | None = None


class _Log:
    def __init__(self, path: Path):
        self.path = path

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")


def _make_client(spec: BotSpec, port: int, log: _Log) -> Any:
    import slixmpp

    class Bot(slixmpp.ClientXMPP):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(f"{spec.user}@{DOMAIN}/bot", employee(spec.user).password)
            self.plugin["feature_mechanisms"].unencrypted_plain = True
            self.add_event_handler("session_start", self.on_start)
            self.add_event_handler("message", self.on_message)
            self.ready = asyncio.Event()

        async def on_start(self, _event: Any) -> None:
            self.send_presence()
            await self.get_roster()
            self.ready.set()

        def on_message(self, msg: Any) -> None:
            if msg["type"] not in ("chat", "normal") or not msg["body"]:
                return
            sender = msg["from"].user
            body = str(msg["body"])
            log.write({"bot": spec.user, "from": sender, "body": body, "time": time.time()})
            reply = spec.default_reply
            for rule in spec.rules:
                if re.search(rule.match, body, re.IGNORECASE):
                    reply = rule.reply
                    break
            if reply:
                text = reply.replace("{sender}", sender)
                self.send_message(mto=msg["from"].bare, mbody=text, mtype="chat")
                log.write({"bot": spec.user, "to": sender, "reply": text, "time": time.time()})

    bot = Bot()
    bot.register_plugin("xep_0030")
    bot.register_plugin("xep_0199")
    bot.enable_starttls = False
    bot.enable_direct_tls = False
    bot.enable_plaintext = True
    bot.connect("127.0.0.1", port)
    return bot


async def _run(bots: list[BotSpec], port: int, log: _Log, ready: Path) -> None:
    clients = [_make_client(spec, port, log) for spec in bots]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), timeout=20)
    ready.write_text(str(len(clients)))  # noqa: ASYNC240 (one tiny write at start)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for client in clients:
        client.disconnect()


def main() -> None:
    """Connect every bot and serve until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bots", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args()
    bots = TypeAdapter(list[BotSpec]).validate_json(args.bots.read_text())
    asyncio.run(_run(bots, args.port, _Log(args.log), args.ready))


if __name__ == "__main__":
    main()
