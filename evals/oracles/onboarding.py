"""Oracle solutions of the ``onboarding`` family."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from evals.oracles.actions import Actions


def _fields(text: str) -> dict[str, str]:
    return {k.strip().lower(): v.strip() for k, v in re.findall(r"^([\w ]+):\s*(.+)$", text, re.M)}


async def _page(act: Actions, info: dict[str, str], start: str) -> None:
    name = info["name"]
    text = (
        f"= {name} =\n\n * Title: {info['title']}\n * Department: {info['department']}\n"
        f" * Manager: {info['manager']}\n * Start date: {start}\n"
    )
    await act.trac_browser_wiki("People/" + name.replace(" ", ""), text)


async def _orientation(act: Actions, info: dict[str, str], start: str) -> None:
    day = datetime.fromisoformat(start).date()
    begin = datetime.combine(day, time(9, 0), UTC)
    manager = info["manager"].split("(")[-1].rstrip(")").strip()
    await act.calendar_add(
        f"orientation-{info['name'].replace(' ', '-').lower()}",
        f"Orientation: {info['name']}",
        begin,
        begin + timedelta(hours=1),
        attendees=[manager, "olivia"],
    )


async def solve_people_page(act: Actions) -> None:
    info = _fields(await act.files_get(act.params["file"]))
    await _page(act, info, info["start date"])


async def solve_full_onboarding(act: Actions) -> None:
    info = _fields(await act.files_get(act.params["file"]))
    start = info["start date"]
    await _page(act, info, start)
    await act.trac_new_ticket(
        summary=f"Laptop for {info['name']}",
        component="infrastructure",
        owner="sam",
        type="task",
        description=f"{info['name']} starts on {start}.",
    )
    await _orientation(act, info, start)
    manager = info["manager"].split("(")[-1].rstrip(")").strip()
    await act.mail_send(
        [f"{manager}@acme.test"],
        f"Welcome {info['name']}",
        f"{info['name']} joins your team on {start}. Orientation is at 09:00 UTC that day.",
    )


async def solve_onboarding_chat(act: Actions) -> None:
    info = _fields(await act.files_get(act.params["file"]))
    reply = await act.chat_ask("tom", f"Hi Tom, what is the start date of {info['name']}?")
    start = re.search(r"\d{4}-\d{2}-\d{2}", reply)
    assert start, reply
    await _page(act, info, start.group(0))
    await _orientation(act, info, start.group(0))


async def solve_page_and_orientation(act: Actions) -> None:
    info = _fields(await act.files_get(act.params["file"]))
    await _page(act, info, info["start date"])
    await _orientation(act, info, info["start date"])
