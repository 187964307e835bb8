"""The memory retrieval set: SOP-like items across Acme Corp's apps and paraphrased queries.

Deterministic (seeded). Every app has the same kinds of actions on similar objects, so
each SOP has look-alikes in other apps (closing a Trac ticket vs a Redmine issue); a
query paraphrases the verb and the object and names its app by name or by an alias, and
has exactly one right answer. ``python -m evals.perf.memory_retrieval_set`` rewrites
``evals/perf/data/retrieval_items.jsonl`` and ``retrieval_queries.jsonl``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

# app key -> (display name, aliases used in queries, scope, menu, confirm button, objects)
# objects: (name, synonyms used in queries)
APPS: dict[str, dict[str, Any]] = {
    "trac": {
        "name": "Trac",
        "aliases": ["Trac", "the Trac tracker"],
        "menu": "View Tickets",
        "confirm": "Submit changes",
        "objects": [
            ("ticket", ["bug report", "ticket"]),
            ("milestone", ["release milestone", "roadmap milestone"]),
        ],
    },
    "roundup": {
        "name": "Roundup",
        "aliases": ["Roundup", "the Roundup issue tracker"],
        "menu": "Show issues",
        "confirm": "Submit",
        "objects": [("issue", ["problem report", "issue"]), ("keyword", ["label", "tag"])],
    },
    "redmine": {
        "name": "Redmine",
        "aliases": ["Redmine", "the Redmine project site"],
        "menu": "Issues tab",
        "confirm": "Save",
        "objects": [("issue", ["task", "work item"]), ("project", ["project space", "project"])],
    },
    "wiki": {
        "name": "the company wiki",
        "aliases": ["the wiki", "the company wiki"],
        "menu": "Recent changes",
        "confirm": "Save page",
        "objects": [
            ("page", ["article", "wiki entry"]),
            ("category", ["page category", "topic group"]),
        ],
    },
    "files": {
        "name": "the WebDAV file share",
        "aliases": ["the file share", "the shared drive"],
        "menu": "folder listing",
        "confirm": "OK in the WebDAV client",
        "objects": [("file", ["document", "file"]), ("folder", ["directory", "folder"])],
    },
    "calendar": {
        "name": "the Radicale calendar",
        "aliases": ["the calendar", "the team calendar"],
        "menu": "calendar collection",
        "confirm": "Save event",
        "objects": [
            ("event", ["meeting", "appointment"]),
            ("calendar", ["schedule", "calendar collection"]),
        ],
    },
    "mail": {
        "name": "webmail",
        "aliases": ["webmail", "the email client"],
        "menu": "Mail view",
        "confirm": "Send",
        "objects": [("message", ["email", "mail"]), ("contact", ["address book entry", "contact"])],
    },
    "chat": {
        "name": "the team chat",
        "aliases": ["the chat", "the team chat"],
        "menu": "rooms list",
        "confirm": "Enter",
        "objects": [
            ("message", ["chat message", "note in the chat"]),
            ("room", ["group chat", "channel"]),
        ],
    },
    "sheets": {
        "name": "the spreadsheet tool",
        "aliases": ["the spreadsheet", "Excel workbook"],
        "menu": "sheet tabs",
        "confirm": "Save workbook",
        "objects": [("sheet", ["worksheet", "tab"]), ("chart", ["graph", "plot"])],
    },
    "docs": {
        "name": "the document editor",
        "aliases": ["the document editor", "the Word document"],
        "menu": "document outline",
        "confirm": "Save document",
        "objects": [("section", ["chapter", "part of the document"]), ("table", ["grid", "table"])],
    },
}

# action -> (title verb, query verbs, step template)
ACTIONS: dict[str, tuple[str, list[str], str]] = {
    "create": (
        "Create a",
        ["make a new", "set up a new", "add a fresh"],
        "open the {menu}, press New {obj}, fill in the name and details",
    ),
    "edit": (
        "Edit a",
        ["change", "modify", "update the text of"],
        "open the {obj} from the {menu}, press Edit, change the fields",
    ),
    "delete": (
        "Delete a",
        ["remove", "get rid of", "erase"],
        "open the {obj}, choose Delete from its actions, confirm the warning",
    ),
    "find": (
        "Search for a",
        ["look up", "locate", "track down"],
        "type words from the {obj} into the search box above the {menu}, open the match",
    ),
    "export": (
        "Export a",
        ["download a copy of", "save out", "back up"],
        "open the {obj}, choose Download or Export as file, pick the format",
    ),
    "share": (
        "Share a",
        ["give a colleague access to", "send a link to"],
        "open the {obj}, copy its URL or use Share, add the colleague's name",
    ),
    "rename": (
        "Rename a",
        ["change the name of", "retitle"],
        "open the {obj}, press Rename, type the new name",
    ),
    "attach": (
        "Attach a file to a",
        ["add an attachment to", "upload a document onto"],
        "open the {obj}, press Attach file, choose the file from the workspace",
    ),
    "assign": (
        "Assign a",
        ["hand over", "give ownership of", "delegate"],
        "open the {obj}, set the Owner or Assignee field to the colleague",
    ),
    "close": (
        "Close a",
        ["finish", "mark as done", "resolve"],
        "open the {obj}, set its state to closed or done, add a short note",
    ),
    "comment": (
        "Comment on a",
        ["leave a note on", "reply on", "add a remark to"],
        "open the {obj}, write in the comment box under it",
    ),
}


def build(seed: int = 7, n_queries: int = 150) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, queries): items carry ``id``; each query names its one right ``answer``."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for app_key, app in APPS.items():
        for obj, _syns in app["objects"]:
            for action, (verb, _qverbs, steps) in ACTIONS.items():
                if rng.random() < 0.05:  # not every app supports every action
                    continue
                body = steps.format(menu=app["menu"], obj=obj)
                # authors describe a task in their own words: one other phrasing each
                alt_verb = rng.choice(ACTIONS[action][1])
                alt_obj = rng.choice(_syns)
                items.append(
                    {
                        "id": f"p-{app_key}-{obj}-{action}".replace(" ", "_"),
                        "level": "procedural",
                        "scope": f"app/{app_key}/{obj}s",
                        "title": f"{verb} {obj} in {app['name']}",
                        "when_to_use": (
                            f"when a task asks to {action} a {obj} in {app['name']} "
                            f"(or to {alt_verb} a {alt_obj})"
                        ),
                        "content": (
                            f"1. Go to {app['name']}. 2. {body[0].upper() + body[1:]}. "
                            f"3. Click {app['confirm']}. 4. Reload and check the {obj} shows the change."
                        ),
                        "tags": [app_key, action],
                    }
                )
    by_id = {it["id"]: it for it in items}
    queries: list[dict[str, Any]] = []
    chosen = rng.sample(sorted(by_id), k=min(n_queries, len(by_id)))
    patterns = [
        "How do I {v} {a} {o} in {app}?",
        "I need to {v} {a} {o} on {app}",
        "{V} {a} {o} using {app}",
        "what are the steps to {v} {a} {o} in {app}",
        "In {app}, {v} {a} {o}",
    ]
    for item_id in chosen:
        _p, app_key, obj, action = item_id.split("-", 3)
        app = APPS[app_key]
        syns = dict(app["objects"])[obj.replace("_", " ")]
        v = rng.choice(ACTIONS[action][1])
        o = rng.choice(syns)
        text = rng.choice(patterns).format(
            v=v,
            V=v[0].upper() + v[1:],
            a="the" if rng.random() < 0.5 else "a",
            o=o,
            app=rng.choice(app["aliases"]),
        )
        queries.append({"query": text, "answer": item_id})
    return items, queries


def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The committed set."""
    items = [json.loads(x) for x in (DATA / "retrieval_items.jsonl").read_text().splitlines() if x]
    queries = [
        json.loads(x) for x in (DATA / "retrieval_queries.jsonl").read_text().splitlines() if x
    ]
    return items, queries


def main() -> None:
    """Regenerate the data files."""
    items, queries = build()
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "retrieval_items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    (DATA / "retrieval_queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    apps = len({i["scope"].split("/")[1] for i in items})
    print(f"{len(items)} items across {apps} apps, {len(queries)} queries -> {DATA}")


if __name__ == "__main__":
    main()
