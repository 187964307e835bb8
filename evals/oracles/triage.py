"""Oracle solutions of the ``ticket-triage`` family."""

from __future__ import annotations

import re

from evals.oracles.actions import Actions

PRIORITY_OF_SEVERITY = {"high": "critical", "medium": "major", "low": "minor"}
COMPONENT_OWNERS = {"backend": "marco", "frontend": "sofia", "infrastructure": "sam", "qa": "kenji"}


async def solve_close_duplicate(act: Actions) -> None:
    dup, original = act.params["dup"], act.params["original"]
    await act.trac_browser_update(
        dup, comment=f"Duplicate of #{original}.", action="resolve", resolution="duplicate"
    )


async def solve_escalate(act: Actions) -> None:
    p = act.params
    await act.trac_browser_update(
        p["ticket"],
        comment=p["reason"],
        action="reassign",
        owner=p["owner"],
        fields={"Priority": p["priority"]},
    )


async def solve_bug_reports(act: Actions) -> None:
    listing = await act.client(
        "dav-list", "--url", act.urls["files_url"], "--path", act.params["folder"]
    )
    numbers = []
    for href in sorted(line for line in listing.splitlines() if line.endswith(".txt")):
        text = await act.files_get(href.lstrip("/"))
        fields = dict(re.findall(r"^(\w+):\s*(.+)$", text, re.M))
        component = fields["Component"].strip().lower()
        numbers.append(
            await act.trac_new_ticket(
                summary=fields["Title"].strip(),
                component=component,
                priority=PRIORITY_OF_SEVERITY[fields["Severity"].strip().lower()],
                owner=COMPONENT_OWNERS[component],
                description=text,
            )
        )
    body = "New tickets from the bug reports: " + ", ".join(f"#{n}" for n in numbers)
    await act.mail_send([f"{act.params['notify']}@acme.test"], "New bug tickets", body)


async def solve_qa_confirm(act: Actions) -> None:
    qa = act.params["qa"]
    tickets = await act.trac_query("keywords=~needs-qa&status=!closed")
    for row in tickets:
        n = int(row["id"])
        reply = await act.chat_ask(qa, f"Hi! Is #{n} still reproducible?")
        if "fixed" in reply.lower():
            await act.trac_update(
                n, comment=f"QA ({qa}): {reply}", action="resolve", resolution="fixed"
            )
        else:
            await act.trac_update(n, comment=f"QA ({qa}): {reply}", priority="critical")


async def solve_set_field(act: Actions) -> None:
    p = act.params
    await act.trac_update(p["ticket"], **{p["field"]: p["value"]})
