"""Evidence rules: what a verdict of success needs, checked by code, that no model overrules.

A small reflector is easily fooled ("the browser navigated to the URL" for a task that
asked for a click). Before its opinion counts, the judged attempt must hold evidence of
the kind the goal asks for:

- ``file_missing``: a file the evidence names does not exist;
- ``input_unused``: an input file the goal names was never named by an executed action;
- ``effect_not_done``: the goal asks for an effect (click, type, submit, select, create,
  send, write, move, delete, book, assign ...) and no executed, non-failed, non-read-only
  action of a matching kind happened in the attempt;
- ``output_not_seen``: the goal names an output (a file, a ticket, a mail) and nothing
  after the last write shows it (an empty file, or only errors since); a mail it asks to
  send needs a Send on the compose form, a send from code or a confirmation (agent/sent.py);
  a per-group table with its header alone while its input has rows shows no result either;
- ``header_mismatch``: the goal spells out the header of the one table it asks for
  ("columns a,b", "header `a,b`", "(a,b)") and the written table starts with another one;
- ``duplicate_groups``: the one per-group table the goal asks for ("sum ... per/for each/by
  ...") repeats a value in its first column (rows copied, not grouped);
- ``app_untouched``: the goal names an app the task gives by address (or books, sends ...
  in the only one), and no action of the run reached it, or every change of the attempt
  stayed in the workspace (agent/apps.py);
- ``target_missed``: the goal names a control to act on ("Click the 'Publish' button",
  "press Next", "choose Lisbon"), an observation of the attempt showed it, and no executed
  action was on it (the click went to another button), or a box it says to tick was
  unticked when the form was sent (agent/targets.py);
- ``reply_unread``: a reply mailed to an address that neither the task (examples aside) nor
  anything the run read before gave (agent/sent.py);
- ``wrong_totals`` (the reflector's, agent/totals.py): per-group sums recomputed, found wrong;
- a goal that only asks a question may succeed on an answer (no rule applies).

``broken_rule`` is the one entry point: pure logic over the goal, the attempt's records and
(for files) the workspace. Verbs go by *families* with inflections: unseen wordings match.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent.apps import app_untouched, without_app_lines
from agent.outputs import FILE, TABLES, stated_header, unwritten_outputs
from agent.sent import asks_to_send_mail, mail_sent, reply_unread
from agent.state import Record, ToolStep, flatten
from agent.targets import NEGATED as _NEGATED
from agent.targets import missed_target
from tools.process import WRITTEN_MARK
from tools.registry import ToolRegistry

RuleName = Literal[
    "file_missing",
    "input_unused",
    "effect_not_done",
    "output_not_seen",
    "header_mismatch",
    "duplicate_groups",
    "wrong_totals",
    "target_missed",
    "app_untouched",
    "reply_unread",
    "no_progress",
]


class BrokenRule(BaseModel):
    """An evidence rule the attempt breaks, with the text the trajectory and retry get."""

    rule: RuleName
    evidence: str
    analysis: str


# ---------------------------------------------------------------- vocabulary

_GONE = re.compile(r"(?i)\b(delet|remov|no longer|not exist|absent|moved)")


def _family(*stems: str) -> str:
    """A regex for verbs by stem, in the forms that give an order (click, clicks, clicking);
    past forms describe ("who sent the mail") rather than ask."""
    return r"\b(?:" + "|".join(stems) + r")(?:s|es|ing|ting|ping|ging)?\b"


# Verbs that only make sense on a page: they need a browser action that changes the page.
UI_EFFECT = re.compile(
    _family(
        "click",
        "double-click",
        "press",
        "tap",
        "hit",
        "push",
        "submit",
        "tick",
        "untick",
        "uncheck",
        "toggle",
        "fill",
        "log ?in",
        "sign ?in",
        "sign ?up",
    )
    + r"|\bcheck(?:s|ed|ing)?\s+(?:the\s+|all\s+|both\s+)?(?:[\w\"'“”-]+\s+){0,4}(?:box|boxes|checkbox(?:es)?|option|options)\b"
    + r"|\bcheck(?:s|ed|ing)?\s+(?:the\s+)?[\"'“]",
    re.IGNORECASE,
)
# Verbs that ask for a change anywhere (a file, a page, a mail): any changing action counts,
# but only where the goal is about a page do type/enter/select/choose count as effects
# ("select the rows where ..." in a data question is not one).
ANY_EFFECT = re.compile(
    _family(
        "create",
        "writ",
        "write",
        "save",
        "sav",
        "store",
        "export",
        "generat",
        "generate",
        "append",
        "insert",
        "updat",
        "update",
        "edit",
        "modif",
        "modify",
        "modifi",
        "renam",
        "rename",
        "delet",
        "delete",
        "remov",
        "remove",
        "eras",
        "erase",
        "archiv",
        "archive",
        "schedul",
        "schedule",
        "reserv",
        "reserve",
        "assign",
        "send",
        "upload",
        "download",
        "install",
        "register",
        "approv",
        "approve",
        "reject",
        "reopen",
        "convert",
        "compose",
        "merg",
        "merge",
        "combin",
        "combine",
        "invit",
        "invite",
        "enabl",
        "enable",
        "disabl",
        "disable",
        "attach",
        "shar",
        "share",
        "declin",
        "decline",
        "fill out",
    )
    + r"|\badd(?:s|ed|ing)?\b(?!\s+(?:up|together))",
    re.IGNORECASE,
)
# Verbs that are also nouns ("the order", "a copy", "the mail"): effects only where they
# give the order (a sentence's start, or after and/then/to/please/a comma).
_IMPERATIVE = r"(?:^|[,:]\s*|\b(?:and|then|to|please|also|finally|first)\s+)"
WEAK_EFFECT = re.compile(
    _IMPERATIVE
    + r"(?:"
    + _family(
        "book",
        "mail",
        "email",
        "e-mail",
        "post",
        "order",
        "cop",
        "copy",
        "copi",
        "draft",
        "repl",
        "reply",
        "forward",
        "cancel",
        "close",
        "record",
        "mov",
        "move",
        "produc",
        "produce",
        "put",
        "make",
        "mak",
        "mark",
        "change",
        "chang",
        "accept",
        "sort",
        "switch",
        "turn",
    )
    + r")",
    re.IGNORECASE,
)
UI_ONLY_IN_PAGE = re.compile(
    _family("type", "typ", "enter", "input", "select", "choos", "choose", "chose", "pick", "set"),
    re.IGNORECASE,
)
PAGE_CONTEXT = re.compile(
    r"https?://|\b(page|button|form|field|checkbox|check box|dropdown|drop-down|menu|link|"
    r"website|site|browser|text ?box|input box|list box|radio|tab)s?\b",
    re.IGNORECASE,
)
# Outputs that are not files: a later observation must mention the thing or a success cue.
OUTPUT_NOUN = re.compile(
    r"(?i)\b(ticket|issue|mail|e-mail|email|message|event|booking|reservation|order|"
    r"comment|post|record|entry|invoice|appointment|meeting)s?\b"
)
_SUCCESS_CUE = re.compile(
    r"(?i)\b(created|saved|sent|submitted|success\w*|added|booked|assigned|updated|posted|"
    r"scheduled|thank you|confirm\w*|done)\b"
)
# Goals that ask for content in a file (an empty one does not do); "create flag.txt" does not.
_CONTENT = re.compile(
    r"(?i)\b(writ\w*|sav\w*|export\w*|append\w*|stor\w*|put\w*|fill\w*|with|containing|"
    r"list\w*|sum\w*|total\w*|result\w*|report\w*|summar\w*|copy|into)\b"
)
BROWSER_EFFECT_TOOLS = frozenset(
    "browser_click browser_type browser_select browser_check browser_press browser_fill".split()
)


def _sentences(goal: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+|\n+", goal) if s.strip()]


def _hits(pattern: re.Pattern[str], text: str) -> list[str]:
    """Matches of ``pattern`` outside questions and negations ("do not delete")."""
    out = []
    for sentence in _sentences(text):
        if sentence.rstrip().endswith("?"):
            continue  # "what happens when you click X?" asks, it does not order
        for m in pattern.finditer(sentence):
            if not _NEGATED.search(sentence[: m.start()]):
                out.append(m.group(0).lower())
    return out


def effects_asked(goal: str) -> tuple[list[str], list[str]]:
    """The effect verbs of a goal: (page-only verbs, verbs any changing action satisfies)."""
    goal = without_app_lines(goal)  # the task's list of apps, when the goal is the task
    ui = _hits(UI_EFFECT, goal)
    anywhere = _hits(ANY_EFFECT, goal) + [h.split()[-1] for h in _hits(WEAK_EFFECT, goal)]
    if PAGE_CONTEXT.search(goal):
        ui += _hits(UI_ONLY_IN_PAGE, goal)
    return ui, anywhere


def is_question(goal: str) -> bool:
    """A goal that asks for an answer only: no effect and no output named."""
    ui, anywhere = effects_asked(goal)
    return not ui and not anywhere


# ---------------------------------------------------------------- the attempt


ReadOnly = Callable[[str], bool]


def _changing(attempt: list[Record], read_only: ReadOnly) -> list[ToolStep]:
    """Executed actions that change something (not read-only), in order."""
    return [r for r in attempt if isinstance(r, ToolStep) and r.executed and not read_only(r.tool)]


# A command or script can drive a page too (an HTTP client, a form post); a file tool cannot.
PROGRAM_TOOLS = frozenset({"shell_run", "python_run"})


def _page_effect(step: ToolStep) -> bool:
    return step.tool in BROWSER_EFFECT_TOOLS or step.tool in PROGRAM_TOOLS


def outputs_of(run: list[Record], registry: ToolRegistry) -> set[str]:
    """Workspace files the run's actions wrote: the destination of a writing file tool, and
    the files a command reported writing (shell_run and python_run name them)."""
    out: set[str] = set()
    for r in flatten(run):
        if not isinstance(r, ToolStep):
            continue
        tool = registry.get(r.tool) if r.tool in registry else None
        if tool is not None and tool.group == "files" and not tool.read_only:
            dest = r.arguments.get("dst", r.arguments.get("path"))
            if isinstance(dest, str):
                out.add(dest.removeprefix("./"))
        for line in r.output.splitlines():
            if line.startswith(WRITTEN_MARK):
                out.update(m.group(1) for m in FILE.finditer(line))
    return out


def missing_files(done_when: str, workspace: Path | None) -> list[str]:
    """Files the subtask's evidence names that do not exist in the workspace."""
    if workspace is None or not done_when or _GONE.search(done_when):
        return []
    names = dict.fromkeys(m.group(1) for m in FILE.finditer(done_when))
    return [n for n in names if not (workspace / n).exists()]


def untouched_inputs(
    goal: str, attempt: list[Record], outputs: set[str], workspace: Path | None
) -> list[str]:
    """Input files the goal names that no executed action of the attempt named.

    Inputs are the goal's workspace files that the run did not write (a file it wrote is
    an output, even when a later goal names it). A result that depends on an input no
    action used was typed, not computed: small models invent plausible rows.
    """
    if workspace is None:
        return []
    named = dict.fromkeys(m.group(1) for m in FILE.finditer(goal or ""))
    inputs = [n for n in named if n not in outputs and (workspace / n).is_file()]
    used = "\n".join(
        json.dumps(r.arguments, ensure_ascii=False)
        for r in attempt
        if isinstance(r, ToolStep) and r.executed
    )
    return [n for n in inputs if n not in used]


def _effect_rule(goal: str, attempt: list[Record], read_only: ReadOnly) -> BrokenRule | None:
    ui, anywhere = effects_asked(goal)
    if not ui and not anywhere:
        return None
    changing = _changing(attempt, read_only)
    matching = [s for s in changing if _page_effect(s)] if ui else changing
    verbs = ", ".join(dict.fromkeys(ui or anywhere))
    kind = "page action (click, type, select, check, press)" if ui else "changing action"
    if not matching:
        return BrokenRule(
            rule="effect_not_done",
            evidence=f"the goal asks to {verbs} but no {kind} was executed",
            analysis=(
                f"Nothing was done: the goal asks to {verbs}, and reading or navigating does "
                f"not do it. Use a {kind} on the right element or file, then look at the result."
            ),
        )
    if all(s.error for s in matching):
        last = matching[-1]
        return BrokenRule(
            rule="effect_not_done",
            evidence=f"every {kind} failed (last: {last.tool}: {(last.error or '')[:160]})",
            analysis=(
                f"The {kind} the goal needs failed: {(last.error or '')[:200]}. "
                "Fix the cause and do it again."
            ),
        )
    return None


def _header_rule(goal: str, files: list[str], workspace: Path) -> BrokenRule | None:
    tables = [n for n in files if n.lower().endswith(TABLES)]
    want = stated_header(goal)
    if want is None or len(tables) != 1 or not (workspace / tables[0]).is_file():
        return None
    name = tables[0]
    with (workspace / name).open(encoding="utf-8", errors="replace") as f:
        first = f.readline(4000).strip().lstrip("\ufeff")
    sep = "\t" if name.lower().endswith(".tsv") else ","
    got = [c.strip().strip('"') for c in first.split(sep)]
    if [c.lower() for c in got] == [c.lower() for c in want]:
        return None
    analysis = (
        f"{name} has the header {sep.join(got)!r}, but the task asks for exactly "
        f"{sep.join(want)!r}. Write the file again with that header."
    )
    lost = [c for c in want if c.lower() not in {g.lower() for g in got}]
    if lost and [c.lower() for c in want[len(lost) :]] == [c.lower() for c in got]:
        # the leading (group) columns are gone: pandas writes a grouped Series without its
        # index when told index=False, the most common way to lose them
        analysis += (
            f" The first column{'s' * (len(lost) > 1)} ({', '.join(lost)}) {'is' if len(lost) == 1 else 'are'} "
            "missing: after a pandas groupby, call .reset_index() before to_csv(index=False)."
        )
    return BrokenRule(
        rule="header_mismatch",
        evidence=f"{name} starts with the header {sep.join(got)!r}",
        analysis=analysis,
    )


AGGREGATE = re.compile(r"(?i)\b(?:total|sum|add(?:s|ed|ing)? up|aggregat|subtotal)\w*")
PER_GROUP = re.compile(r"(?i)\b(?:per|for (?:each|every)|each|every|by)\b")


def _groups_rule(goal: str, files: list[str], workspace: Path) -> BrokenRule | None:
    tables = [n for n in files if n.lower().endswith(TABLES)]
    if len(tables) != 1 or not (AGGREGATE.search(goal) and PER_GROUP.search(goal)):
        return None
    name = tables[0]
    sep = "\t" if name.lower().endswith(".tsv") else ","
    with (workspace / name).open(encoding="utf-8", errors="replace") as f:
        rows = [line.rstrip("\r\n").split(sep) for line in f.readlines(200_000)]
    keys = [r[0].strip() for r in rows[1:] if r and r[0].strip()]
    if not keys:
        return _no_rows(goal, name, workspace)
    seen: dict[str, int] = {}
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
    repeated = [k for k, n in seen.items() if n > 1]
    if not repeated:
        return None
    k = repeated[0]
    return BrokenRule(
        rule="duplicate_groups",
        evidence=f"{name} has {seen[k]} rows for {k!r}",
        analysis=(
            f"{name} repeats {k!r} ({seen[k]} rows) in its first column: the rows were copied, "
            "not grouped. Group by that column and write one row per value with its total."
        ),
    )


def _no_rows(goal: str, name: str, workspace: Path) -> BrokenRule | None:
    """A per-group total written as its header alone, while a table the goal names to read
    has rows: every group of a non-empty input gets a row (the 1.5B model grouped by a
    regex that matched nothing, wrote ``month,revenue`` alone and was judged done)."""
    for source in dict.fromkeys(m.group(1) for m in FILE.finditer(goal)):
        path = workspace / source
        if source == name or not source.lower().endswith(TABLES) or not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as f:
            data = [line for line in f.readlines(200_000)[1:] if line.strip()]
        if data:
            return BrokenRule(
                rule="output_not_seen",
                evidence=f"{name} holds its header and no rows, while {source} has {len(data)}",
                analysis=(
                    f"{name} has no row for any group, but {source} has data: the grouping "
                    "matched nothing. Print the groups your code finds before writing, then "
                    "write one row per group with its total."
                ),
            )
    return None


def _output_rule(
    goal: str,
    attempt: list[Record],
    read_only: ReadOnly,
    outputs: set[str],
    workspace: Path | None,
) -> BrokenRule | None:
    changing = _changing(attempt, read_only)
    if not changing:
        return None  # nothing written: the effect rule speaks for effect goals
    files = [n for n in dict.fromkeys(m.group(1) for m in FILE.finditer(goal)) if n in outputs]
    if workspace is not None and not _GONE.search(goal):
        for name in unwritten_outputs(goal, outputs, workspace):
            return BrokenRule(
                rule="output_not_seen",
                evidence=f"{name} does not exist: no action wrote it",
                analysis=f"{name} was never written. Write it with a tool, then read it back.",
            )
        for name in files:
            path = workspace / name
            if not path.is_file():
                return BrokenRule(
                    rule="output_not_seen",
                    evidence=f"{name} does not exist after the last write",
                    analysis=f"{name} was not written. Write it with a tool, then read it back.",
                )
            if path.stat().st_size == 0 and _CONTENT.search(goal):
                return BrokenRule(
                    rule="output_not_seen",
                    evidence=f"{name} is empty",
                    analysis=f"{name} is empty. Write the result into it, then read it back.",
                )
        shape = _header_rule(goal, files, workspace) or _groups_rule(goal, files, workspace)
        if shape is not None:
            return shape
    last = max(i for i, r in enumerate(attempt) if r is changing[-1])
    if asks_to_send_mail(goal):
        if mail_sent(attempt, last):
            return None  # the mail is the last output: its own evidence, not a page's words
        return BrokenRule(
            rule="output_not_seen",
            evidence="the goal asks for a mail to be sent, and no step shows one sent",
            analysis=(
                "No mail was sent: nothing shows a Send on the compose form, a send from code "
                "(SMTP) or a confirmation. Write the mail and send it, then look for the "
                "confirmation."
            ),
        )
    if files or not OUTPUT_NOUN.search(goal) or not effects_asked(goal)[1]:
        return None
    # a ticket, a mail ...: something after the last change must show it was made
    after = [r for r in attempt[last:] if isinstance(r, ToolStep) and r.executed and not r.error]
    shown = any(OUTPUT_NOUN.search(r.output) or _SUCCESS_CUE.search(r.output) for r in after)
    if shown:
        return None
    return BrokenRule(
        rule="output_not_seen",
        evidence="no observation after the last change shows the result",
        analysis=(
            "Nothing after the last change shows that it was made (an error, or no page or "
            "listing showing it). Look at the result, and redo the change if it is missing."
        ),
    )


def _target_rule(
    goal: str, attempt: list[Record], history: list[Record], read_only: ReadOnly
) -> BrokenRule | None:
    missed = missed_target(goal, attempt, history, read_only)
    if missed is None:
        return None
    return BrokenRule(rule="target_missed", evidence=missed[0], analysis=missed[1])


def broken_rule(
    goal: str,
    attempt: list[Record],
    *,
    read_only: ReadOnly,
    done_when: str = "",
    outputs: set[str] | None = None,
    workspace: Path | None = None,
    history: list[Record] | None = None,
    task: str = "",
) -> BrokenRule | None:
    """The first evidence rule a verdict of success on this attempt would break, or None.

    ``goal`` is the judged subtask's goal, ``attempt`` its records (only executed tool
    steps count), ``read_only`` says which tools change nothing, ``outputs`` are files the
    run wrote and ``workspace`` is where files are checked (None: file rules are skipped).
    ``history`` is the run's records up to the attempt's end (the page states it first saw);
    ``task`` is the task's text (the apps it gives by address).
    """
    outputs = outputs or set()
    attempt = flatten(attempt)  # a skill's effects are those of the steps it ran
    missing = missing_files(done_when, workspace)
    if missing:
        return BrokenRule(
            rule="file_missing",
            evidence=f"{', '.join(missing)} does not exist in the workspace",
            analysis=(
                f"The expected file {', '.join(missing)} was not created. "
                "Create it with a tool, then check it exists."
            ),
        )
    unused = untouched_inputs(goal, attempt, outputs, workspace)
    if unused:
        return BrokenRule(
            rule="input_unused",
            evidence=f"no action read {', '.join(unused)}",
            analysis=(
                f"The result was not computed from {', '.join(unused)}: no tool read or "
                "processed it. Compute the result from the file with a tool; never type the data."
            ),
        )
    before = flatten(history or [])
    if untouched := app_untouched(task, goal, attempt, before, read_only, effects_asked):
        return BrokenRule(rule="app_untouched", evidence=untouched[0], analysis=untouched[1])
    if unread := reply_unread(task, goal, attempt, flatten(history or attempt)):
        return BrokenRule(rule="reply_unread", evidence=unread[0], analysis=unread[1])
    return (
        _effect_rule(goal, attempt, read_only)
        or _target_rule(goal, attempt, before, read_only)
        or _output_rule(goal, attempt, read_only, outputs, workspace)
    )


__all__ = [
    "BrokenRule",
    "RuleName",
    "broken_rule",
    "effects_asked",
    "is_question",
    "missing_files",
    "outputs_of",
    "stated_header",
    "untouched_inputs",
]
