"""Oracle solutions of the ``release-planning`` family."""

from __future__ import annotations

from datetime import datetime

from evals.oracles.actions import Actions


async def solve_create_milestone(act: Actions) -> None:
    p = act.params
    await act.trac_browser_milestone(p["name"], p["due"], p["description"])


async def solve_retarget(act: Actions) -> None:
    p = act.params
    for row in await act.trac_query(f"milestone={p['from']}&status=!closed"):
        await act.trac_update(int(row["id"]), milestone=p["to"])


async def solve_release_notes(act: Actions) -> None:
    p = act.params
    rows = await act.trac_query(f"milestone={p['milestone']}&status=closed")
    lines = [f" * #{r['id']} {r['summary']}" for r in rows]
    text = f"= Release notes {p['milestone']} =\n\n" + "\n".join(lines) + "\n"
    await act.trac_wiki(p["page"], text)
    await act.files_put(p["file"], text)
    await act.mail_send(
        [f"{p['notify']}@acme.test"],
        f"Release notes {p['milestone']}",
        f"The release notes of {p['milestone']} are on the wiki ({p['page']}) and the share.",
    )


async def solve_review_meeting(act: Actions) -> None:
    p = act.params
    rows = await act.trac_query(f"milestone={p['milestone']}&status=!closed")
    owners = sorted({r["owner"] for r in rows if r["owner"]})
    await act.calendar_add(
        f"review-{p['milestone']}",
        f"{p['milestone']} release review",
        datetime.fromisoformat(p["start"]),
        datetime.fromisoformat(p["end"]),
        attendees=owners,
    )
    agenda = "\n".join(f"- #{r['id']} {r['summary']}" for r in rows)
    await act.mail_send(
        [f"{o}@acme.test" for o in owners],
        f"{p['milestone']} release review",
        f"Agenda: the open tickets of {p['milestone']}:\n{agenda}\n",
    )
