"""Filling a skill's arguments from a new subtask, by code, so a small model only has to call.

A 1.5B model offered a skill as one more tool in its catalogue mostly writes its own
script instead (measured on the skills family, evals/results/skills-family). What it does
follow is a concrete call in front of it. So when a recalled skill fits a subtask, the
executor's first note of the attempt names the skill and the arguments that this
subtask's own text and files give:

- ``input_file``: the existing files the goal names, in the order it names them;
- ``output_file``: the files the goal names that do not exist yet (not those of an example
  command it quotes, `curl -T report.csv http://...`);
- ``url``: the addresses the goal gives;
- ``column``: the columns of the input tables that the goal mentions (as the table spells
  them). When a skill has several, each goes where its values are of the same type as in
  the verified attempt (numbers or text, read from the tables by code); when the types do
  not tell them apart, they are left to the model;
- ``header``: the name at the same place of the header this subtask states for its output
  (`product,revenue` gives ``revenue`` where the attempt had `employee,total`'s ``total``);
  so does a ``column`` no input table had, at a place of the header the skill's description
  states (skills stored before header names were told from columns by the tables).

Whatever cannot be filled this way stays for the model (shown as ``"?"``). The note is a
suggestion: the model still chooses the call, and the call still goes through the
registry like any other. Only when an attempt that was offered a skill with every argument
filled by code did not call it and was judged not done, the retry's first reply is asked
with that skill as its only tool (:func:`skill_to_call`): the model's own way failed, and
the proven way is in front of it (in the curve the 1.5B model wrote its own script beside
the filled-in call, got the header wrong, and spent its retry looping on the same script).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from agent.evidence import FILE, stated_header
from agent.inputs import TABLE, input_files
from agent.outputs import without_examples
from agent.skills import Skill, SkillParam, parse_skill
from agent.state import ContextItem, ModelStep, NoteStep, Record, ReflectionStep

ValueType = Literal["number", "text"]
SAMPLE_BYTES = 64_000
SAMPLE_ROWS = 50
_URL = re.compile(r"https?://[^\s\"'<>)]+")
_NUMBER = re.compile(r"^\s*[-+]?(\d[\d,]*)?(\.\d+)?\s*%?\s*$")
_PLACEHOLDER = re.compile(r"<(\w+)>")


def _rows(path: Path) -> list[list[str]]:
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES).decode("utf-8", errors="replace")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    lines = head.splitlines()[: SAMPLE_ROWS + 1]
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def column_types(path: Path) -> dict[str, ValueType]:
    """Each column of a table: ``number`` when every non-empty sampled value is one."""
    try:
        rows = _rows(path)
    except OSError:
        return {}
    if not rows:
        return {}
    header = [c.strip() for c in rows[0]]
    out: dict[str, ValueType] = {}
    for i, name in enumerate(header):
        values = [r[i] for r in rows[1:] if i < len(r) and r[i].strip()]
        numeric = bool(values) and all(
            _NUMBER.match(v) and any(ch.isdigit() for ch in v) for v in values
        )
        out[name] = "number" if numeric else "text"
    return out


def with_column_types(skill: Skill, start: Path | None, inputs: Iterable[str]) -> Skill:
    """The skill with each column parameter's value type, read from the tables of the
    attempt's start state (``start``) that the skill reads."""
    if start is None:
        return skill
    types: dict[str, ValueType] = {}
    for name in inputs:
        if name.lower().endswith(TABLE) and (start / name).is_file():
            types |= column_types(start / name)
    params = [
        p.model_copy(update={"values": types.get(p.example)}) if p.kind == "column" else p
        for p in skill.params
    ]
    return skill.model_copy(update={"params": params})


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.lower()).strip()


def _mentions(goal: str, columns: Iterable[str]) -> list[tuple[int, str]]:
    """(position in the goal, column) of each column the goal mentions outside file names,
    first mention first; with its spelling or with spaces for ``_``/``-``."""
    text = _norm(FILE.sub(" ", goal))  # a file name is not a column (per_year.tsv)
    found: list[tuple[int, str]] = []
    for col in sorted(set(columns), key=len, reverse=True):
        key = _norm(col)
        if not key:
            continue
        m = re.search(r"(?<![a-z0-9])" + re.escape(key) + r"(?![a-z0-9])", text)
        taken = any(a <= (m.start() if m else -1) < a + len(_norm(c)) for a, c in found)
        if m and not taken:
            found.append((m.start(), col))
    return sorted(found)


def _order(skill: Skill, kind: str) -> list[SkillParam]:
    """The skill's parameters of one kind, in the order its ``when_to_use`` names them."""
    named = [m.group(1) for m in _PLACEHOLDER.finditer(skill.when_to_use)]
    params = [p for p in skill.params if p.kind == kind]
    return sorted(params, key=lambda p: named.index(p.name) if p.name in named else len(named))


def _assign_columns(
    params: list[SkillParam], mentioned: list[str], types: dict[str, ValueType]
) -> dict[str, str]:
    """Columns to parameters. A parameter whose values were numbers takes a numeric column
    only; one whose values were text prefers a text column but may take a numeric one (a
    year or an id can be a label). Among the assignments that fit best, the goal's order of
    mention decides."""
    if not params or len(mentioned) != len(params) or len(params) > 6:
        return {}
    fits: list[tuple[int, tuple[str, ...]]] = []
    for perm in itertools.permutations(mentioned):
        cost = 0
        for p, c in zip(params, perm, strict=True):
            want, have = p.values, types.get(c)
            if want is None or have is None or want == have:
                continue
            if want == "number":  # text where the skill computed with numbers
                break
            cost += 1
        else:
            fits.append((cost, perm))
    least = min((cost for cost, _ in fits), default=None)
    best = [perm for cost, perm in fits if cost == least]
    if len(best) != 1:  # none fits, or the types cannot tell: a guess would be worse
        return {}
    return {p.name: c for p, c in zip(params, best[0], strict=True)}


def propose_arguments(
    skill: Skill, goal: str, workspace: Path | None, outputs: set[str] | None = None
) -> dict[str, str]:
    """The arguments this subtask gives the skill, by code (a parameter it cannot fill
    is left out)."""
    args: dict[str, str] = {}
    inputs = input_files(goal, workspace, outputs)
    named = list(dict.fromkeys(m.group(1) for m in FILE.finditer(without_examples(goal))))
    news = [n for n in named if n not in inputs]
    urls = list(dict.fromkeys(_URL.findall(goal)))
    for kind, values in (("input_file", inputs), ("output_file", news), ("url", urls)):
        params = _order(skill, kind)
        if params and len(params) == len(values):
            args |= {p.name: v for p, v in zip(params, values, strict=True)}
        elif len(params) == 1 and kind == "input_file":  # one of several: the same kind of file
            suffix = Path(params[0].example).suffix.lower()
            same = [v for v in values if Path(v).suffix.lower() == suffix]
            if len(same) == 1:
                args[params[0].name] = same[0]
    # a skill stored before a header name was told from a column by the input tables: a
    # "column" no table had when it was learned, at a place of the header its description
    # states (`header <column>,<column_3>`), is that header name
    spelled = stated_header(_PLACEHOLDER.sub(lambda m: m.group(1), skill.when_to_use)) or []
    legacy = {
        p.name: spelled.index(p.name)
        for p in skill.params
        if p.kind == "column" and p.values is None and p.name in spelled
    }
    columns = [p for p in _order(skill, "column") if p.name not in legacy]
    if columns and workspace is not None:
        tables = [args[p.name] for p in _order(skill, "input_file") if p.name in args]
        types: dict[str, ValueType] = {}
        for name in tables:
            if name.lower().endswith(TABLE):
                types |= column_types(workspace / name)
        mentioned = [c for _, c in _mentions(goal, types)]
        args |= _assign_columns(columns, mentioned, types)
    header = stated_header(goal) or []
    for p in skill.params:
        at = legacy.get(p.name, p.position if p.kind == "header" else None)
        if at is not None and at < len(header):
            args[p.name] = header[at]
    return args


FITS = "A skill learned from an earlier verified attempt fits this subtask: "
_FITTING = re.compile(re.escape(FITS) + r"(\S+) \(")


def suggestion(skill: Skill, args: dict[str, str]) -> str:
    """The note that puts the call in front of the model."""
    filled = {p.name: args.get(p.name, "?") for p in skill.params}
    missing = [p.name for p in skill.params if p.name not in args]
    text = (
        f"{FITS}{skill.tool_name} "
        f"({skill.when_to_use}). It repeats that attempt's steps in one call. Call it first, with "
        f"this subtask's values (filled in from the task and its files; correct any that do "
        f"not fit): {skill.tool_name} {json.dumps(filled, ensure_ascii=False)}"
    )
    if missing:
        text += f". Fill in {', '.join(missing)} from the task."
    return text


def skill_note(
    items: Iterable[ContextItem], goal: str, workspace: Path | None, outputs: set[str] | None = None
) -> str:
    """The suggestion for the best recalled skill among ``items`` that this subtask gives a
    value to, by code ("" when none). A skill none of whose parameters the subtask fills
    is still offered as a tool, but not put first: nothing says it fits (a skill that wrote
    a ticket's title into a file was pressed on every later task of the company)."""
    for item in items:
        skill = parse_skill(item.text) if item.level == "skill" else None
        if skill is None:
            continue
        args = propose_arguments(skill, goal, workspace, outputs)
        if args or not skill.params:
            return suggestion(skill, args)
    return ""


def skill_to_call(records: list[Record], earlier: list[Record]) -> str | None:
    """The skill this attempt's first reply must call: the one its opening note fills in
    completely, when an earlier attempt of the subtask was offered it too, did not call it,
    and was judged not done (None otherwise)."""
    name = _fully_filled(records)
    if name is None or any(
        isinstance(r, ModelStep) and any(c.name == name for c in r.tool_calls) for r in earlier
    ):
        return None
    judged = [r for r in earlier if isinstance(r, ReflectionStep)]
    offered = _fully_filled(earlier)
    return name if offered == name and judged and not judged[-1].achieved else None


def _fully_filled(records: list[Record]) -> str | None:
    for r in records:
        if isinstance(r, NoteStep) and r.text.startswith(FITS) and ". Fill in " not in r.text:
            found = _FITTING.match(r.text)
            return found.group(1) if found else None
    return None
