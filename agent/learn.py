"""Learn: the one place where experience is written (the reflector judges, the learner writes).

What a small model would write badly, code writes here:

- **skills** from an attempt verified done (:func:`agent.skills.induce`), kept only after
  a replay against a fresh copy of the attempt's start state reproduces its output files
  (active), or, where no such copy exists, as a candidate until a first successful use;
- **tool tips** from an error followed by a fix of the same tool in the same attempt;
- the model's own proposals (the reflector's and distiller's memory edits), through the
  store's write gate with their source trust and, for a strategic lesson that repeats
  what a tool read, a quarantine decided in the same call.

Nothing here asks a model.
"""

from __future__ import annotations

import csv
import filecmp
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from agent.context import RunContext
from agent.models import MemoryEdit
from agent.skillbind import with_column_types
from agent.skills import SKILL_PREFIX, Skill, SkillRun, induce, parse_skill, run_skill
from agent.state import AgentState, Record, ToolStep, current_subtask

OUTSIDE_GROUPS = ("browser", "mail")  # tools whose effects a skill's replay must not repeat
UNTRUSTED_GROUPS = ("browser", "shell", "python", "mail", "mcp")  # mcp: another program's output
SNAPSHOT_MAX_BYTES = 20_000_000
SNAPSHOT_MAX_FILES = 2_000
USE_FAILURES_TO_RETIRE = 2
ECHO_REASON = "repeats untrusted tool output; needs review"
VENV = ".jm-venv"  # the agent's Python environment in a workspace: not part of its state


# ---------------------------------------------------------------- trust


def source_trust(records: list[Record], ctx: RunContext) -> Literal["trusted", "untrusted"]:
    """Untrusted when the attempt read content from outside: pages, files, command output."""
    for r in records:
        if isinstance(r, ToolStep) and r.tool in ctx.registry:
            t = ctx.registry.get(r.tool)
            if t.group in UNTRUSTED_GROUPS or (t.group == "files" and t.read_only):
                return "untrusted"
    return "trusted"


_URL = re.compile(r"https?://[^\s\"'<>)]+")
_WORDS = re.compile(r"[a-z0-9]+")
SHINGLE = 6


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def echoes_untrusted(text: str, records: list[Record], task: str) -> bool:
    """Whether a proposed lesson repeats what a tool read (a URL, or six words in a row)
    that the task itself did not say: such a lesson may be an injected instruction."""
    seen = "\n".join(r.output for r in records if isinstance(r, ToolStep))
    if not seen:
        return False
    if any(u in seen and u not in task for u in _URL.findall(text)):
        return True
    return bool((_shingles(text) & _shingles(seen)) - _shingles(task))


# ---------------------------------------------------------------- the model's proposals


def remember(
    state: AgentState,
    ctx: RunContext,
    edits: list[MemoryEdit],
    *,
    achieved: bool,
    trust: str,
    records: list[Record],
    actor: str = "reflector",
) -> list[str]:
    """Propose memory edits through the write gate; ids of what was stored.

    A strategic lesson from an untrusted attempt that echoes what a tool read is
    quarantined for a person's review, decided here and carried out by the store in the
    same call: two episodes fooled by the same page must not corroborate each other into
    an always-on rule.
    """
    sub = current_subtask(state)
    written = []
    for edit in edits[:2]:
        if edit.level == "procedural" and not achieved:
            continue  # an SOP only from a verified success
        scope = edit.scope or "global"
        if edit.level == "tool" and not scope.startswith("tool/"):
            continue  # a tip must name its tool
        text = f"{edit.title}\n{edit.when_to_use}\n{edit.content}"
        hold = (
            ECHO_REASON
            if edit.level == "strategic"
            and trust == "untrusted"
            and echoes_untrusted(text, records, state["task"])
            else None
        )
        res = ctx.memory.propose(
            level=edit.level,
            scope=scope,
            title=edit.title,
            content=edit.content,
            when_to_use=edit.when_to_use,
            source_trust=trust,
            actor=actor,
            episode_success=achieved,
            provenance=_provenance(state, ctx, sub.goal if sub else ""),
            quarantine=hold,
        )
        if res.item is None or res.action == "rejected":
            continue
        written.append(str(res.item.id))
    return written


def _provenance(state: AgentState, ctx: RunContext, subtask: str) -> dict[str, Any]:
    return {"episode": state.get("episode_id"), "subtask": subtask, "model": ctx.llm.name}


# ---------------------------------------------------------------- start state


def snapshot(workspace: Path | None) -> Path | None:
    """A copy of the workspace as an attempt starts (None when too big to copy)."""
    if workspace is None or not workspace.is_dir():
        return None
    files = [
        p
        for p in workspace.rglob("*")
        if p.is_file() and not p.is_symlink() and VENV not in p.relative_to(workspace).parts
    ]
    if len(files) > SNAPSHOT_MAX_FILES or sum(p.stat().st_size for p in files) > SNAPSHOT_MAX_BYTES:
        return None
    dest = Path(tempfile.mkdtemp(prefix="jm-start-")) / "ws"
    shutil.copytree(workspace, dest, symlinks=True, ignore=shutil.ignore_patterns(VENV))
    return dest


def changed_files(start: Path, now: Path) -> list[str]:
    """Files (relative paths) that are new or different in ``now`` compared with ``start``."""
    out = []
    for p in sorted(now.rglob("*")):
        if not p.is_file() or p.is_symlink():
            continue
        rel = p.relative_to(now)
        if rel.parts and rel.parts[0].startswith("."):
            continue  # tool bookkeeping (artifacts, caches)
        old = start / rel
        if not old.is_file() or not filecmp.cmp(old, p, shallow=False):
            out.append(str(rel))
    return out


# ---------------------------------------------------------------- skills


async def run_through(
    ctx: RunContext, skill: Skill, arguments: dict[str, Any], tools: Any = None
) -> SkillRun:
    """Run a skill's steps through the run's registry (sandbox, allowlist, output budget)."""
    tools = tools if tools is not None else ctx.tools

    async def call(name: str, args: dict[str, Any]) -> tuple[str, str | None]:
        res = await ctx.registry.call(name, args, tools)
        return res.output, res.error

    return await run_skill(skill, arguments, call, ctx.registry.names)


async def replay(
    ctx: RunContext,
    skill: Skill,
    start: Path,
    expected: dict[str, Path],
    drop: Iterable[str] = (),
    reorder: str | None = None,
) -> tuple[bool, str]:
    """Run ``skill`` with its example arguments on a fresh copy of ``start`` (less the files
    in ``drop``, and with the table ``reorder`` given its columns in reverse order); it
    passes when every expected output file comes out byte-equal."""
    from tools import ToolContext
    from tools.python_env import env_dir

    room = Path(tempfile.mkdtemp(prefix="jm-replay-")) / "ws"
    settings = ctx.tools.settings
    live = getattr(ctx.tools, "workspace", None)
    if live is not None and env_dir(ctx.tools).is_dir():
        # the agent's own Python environment, not a new one (it may hold installed packages)
        settings = settings.model_copy(update={"python_env_dir": env_dir(ctx.tools)})
    try:
        shutil.copytree(start, room, symlinks=True, ignore=shutil.ignore_patterns(VENV))
        for rel in drop:
            (room / rel).unlink(missing_ok=True)
        if reorder is not None:
            _reverse_columns(room / reorder)
        async with ToolContext(room, settings) as tools:
            run = await run_through(ctx, skill, skill.example_args(), tools)
        if not run.ok:
            return False, f"replay failed: {run.error}"
        for rel, want in expected.items():
            got = room / rel
            same = filecmp.cmp if reorder is None else _same_by_name
            if not got.is_file() or not same(got, want, shallow=False):
                return False, f"replay did not reproduce {rel}"
        return True, f"replayed on a fresh copy of the start state: {', '.join(expected)} equal"
    finally:
        shutil.rmtree(room.parent, ignore_errors=True)


def _reverse_columns(path: Path) -> None:
    """Rewrite a table with its columns in reverse order (the same rows, by name)."""
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(r[::-1] for r in rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _same_by_name(got: Path, want: Path, shallow: bool = False) -> bool:
    """Equal files, or equal tables column by column name (a table that copies whole
    rows of a reordered input comes out with its columns reordered too)."""
    if filecmp.cmp(got, want, shallow=shallow):
        return True
    if want.suffix.lower() not in (".csv", ".tsv"):
        return False
    sep = "\t" if want.suffix.lower() == ".tsv" else ","

    def rows(path: Path) -> list[dict[str, str]]:
        text = path.read_text(encoding="utf-8", errors="replace")
        return list(csv.DictReader(io.StringIO(text), delimiter=sep))

    return rows(got) == rows(want)


def by_position(skill: Skill, start: Path) -> str | None:
    """The input table a skill reads (three columns or more), to replay it again with that
    table's columns reversed: a script that reads ``row[4]`` computes with whatever column
    stands there in a later table, whatever its parameters say."""
    for p in skill.params:
        path = start / p.example
        if p.kind == "input_file" and p.example.lower().endswith((".csv", ".tsv")):
            if path.is_file() and path.stat().st_size < 2_000_000:
                with path.open(encoding="utf-8", errors="replace") as f:
                    head = f.readline()
                if head.count("\t" if p.example.lower().endswith(".tsv") else ",") >= 2:
                    return p.example
    return None


def files_in(start: Path | None) -> set[str]:
    """The files of a start-state copy (relative paths)."""
    if start is None:
        return set()
    return {str(p.relative_to(start)) for p in start.rglob("*") if p.is_file()}


def _headers(start: Path | None, names: set[str]) -> str:
    """The first line of each table in the start state (column names)."""
    lines = []
    for name in sorted(names):
        if start is not None and name.lower().endswith((".csv", ".tsv")):
            with (start / name).open(encoding="utf-8", errors="replace") as f:
                lines.append(f.readline()[:2000])
    return "".join(lines)


def _scope(skill: Skill, ctx: RunContext) -> str:
    groups = [ctx.registry.get(s.tool).group for s in skill.steps if s.tool in ctx.registry]
    kinds = sorted({p.example.rsplit(".", 1)[-1] for p in skill.params if "input_file" in p.kind})
    if "browser" in groups:
        return "web"
    return "files/" + kinds[0] if kinds else "files"


async def learn_skill(
    state: AgentState, ctx: RunContext, records: list[Record], start: Path | None
) -> tuple[str | None, str]:
    """Induce, verify and store a skill from an attempt verified done.

    Returns (the stored item's id or None, what happened).
    """
    sub = current_subtask(state)
    assert sub is not None
    registry = ctx.registry

    def read_only(name: str) -> bool:
        return name in registry and registry.get(name).read_only

    def group(name: str) -> str:
        return registry.get(name).group if name in registry else ""

    start_files = files_in(start)
    made: set[str] = set()
    if ctx.first_files is not None:  # what an earlier attempt of this run created is an output
        made = start_files - ctx.first_files
        start_files &= ctx.first_files
    skill = induce(
        sub.goal,
        state["task"],
        records,
        read_only=read_only,
        group=group,
        start_files=start_files,
        headers=_headers(start, start_files),
    )
    if isinstance(skill, str):
        return None, f"no skill: {skill}"
    skill = with_column_types(
        skill, start, [p.example for p in skill.params if p.kind == "input_file"]
    )
    workspace = getattr(ctx.tools, "workspace", None)
    status, note = "candidate", "not replayable here: a candidate until its first successful use"
    # a page or a mail acts outside the workspace: a replay would do it again, for real
    acts_outside = any(group(s.tool) in OUTSIDE_GROUPS for s in skill.steps)
    if start is not None and workspace is not None and not acts_outside:
        expected = {rel: workspace / rel for rel in changed_files(start, workspace)}
        drop: set[str] = set()
        if not expected:  # it wrote again what an earlier attempt wrote: replay without those
            drop = {r for r in made if not r.startswith(".") and (workspace / r).is_file()}
            expected = {rel: workspace / rel for rel in sorted(drop)}
        if not expected:
            return None, "no skill: the attempt changed no file to check a replay against"
        ok, note = await replay(ctx, skill, start, expected, drop)
        if not ok:
            return None, f"no skill: {note}"
        table = by_position(skill, start)
        if table is not None and not (await replay(ctx, skill, start, expected, drop, table))[0]:
            return None, (
                f"no skill: it reads {table} by column position (replayed with the columns in "
                "reverse order, its output came out otherwise)"
            )
        status = "active"
    res = ctx.memory.propose(
        level="skill",
        scope=_scope(skill, ctx),
        title=skill.name.replace("_", " "),
        content=skill.model_dump_json(),
        when_to_use=skill.when_to_use,
        source_trust=source_trust(records, ctx),
        actor="learner",
        episode_success=True,
        provenance=_provenance(state, ctx, sub.goal),
        status=status,
        reason=note,
    )
    if res.item is None or res.action == "rejected":
        return None, f"no skill: {res.reason}"
    return str(res.item.id), f"skill {skill.tool_name} {res.action} ({res.item.status}): {note}"


def record_use(store: Any, item_id: str, run: SkillRun) -> None:
    """A use of a skill in its history: a success promotes a candidate; the second failing
    use retires it, with the failing observation as the reason. A skill of a namespace the
    store reads but does not write (a team's) is left to its writers: its use is credited
    with the subtask's outcome like any item's."""
    if store.get(item_id).namespace != getattr(store, "namespace", "default"):
        return
    if run.ok:
        store.note(item_id, actor="executor", reason="used: every step succeeded", promote=True)
        return
    reason = f"use failed: {(run.error or '')[:400]}"
    item = store.note(item_id, actor="executor", reason=reason)
    failures = sum(v.reason.startswith("use failed") for v in store.history(item_id))
    if failures >= USE_FAILURES_TO_RETIRE and item.status != "retired":
        store.retire(item_id, actor="executor", reason=f"failed {failures} times in use; {reason}")


def skill_of(items: list[Any], name: str) -> tuple[str, Skill] | None:
    """The (item id, skill) offered under tool name ``name`` among context items."""
    for it in items:
        if it.level == "skill" and it.tool == name:
            skill = parse_skill(it.text)
            if skill is not None:
                return it.id, skill
    return None


# ---------------------------------------------------------------- tips


_ERROR_KIND = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")
_READS = ("file_read", "file_list", "file_find", "file_grep", "browser_read")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", text)}


def _error_kind(error: str, output: str = "") -> str:
    """The exception a failure names (in its error or its output), else the error's first
    words ("exit code", "not an existing folder")."""
    m = _ERROR_KIND.search(f"{error}\n{output}")
    if m:
        return m.group(1)
    first = error.strip().splitlines()[0] if error.strip() else ""
    first = re.sub(r"'[^']*'|\"[^\"]*\"", " ", first)  # a path or a value is no kind
    first = first.split(":")[0]  # "exit code 127: bash: trac: command not found" is an exit code
    words = re.findall(r"[a-z]+", first.lower())[:5]
    return " ".join(words) or "an error"


_LONG = 80  # an argument longer than this is described by its names
_PROGRAM = ("code", "command", "script")  # arguments that are programs: compared by names


def _related(bad: dict[str, object], good: dict[str, object]) -> bool:
    """Whether ``good`` is the same call mended, not another job: long arguments (code, a
    command) share at least half the names of the shorter one ("print('hello')" after
    "import trac; trac.Ticket(9)..." fixed nothing)."""
    for key in {*bad, *good}:
        before, after = str(bad.get(key, "")), str(good.get(key, ""))
        if (key not in _PROGRAM and max(len(before), len(after)) <= _LONG) or before == after:
            continue
        a, b = _words(before), _words(after)
        if a and b and len(a & b) < 0.5 * min(len(a), len(b)):
            return False
    return True


def _change(bad: dict[str, object], good: dict[str, object]) -> str:
    """What the working call changed: short values as before -> after, long ones by the
    names they dropped and added."""
    parts = []
    for key in sorted(k for k in {*bad, *good} if bad.get(k) != good.get(k)):
        before, after = str(bad.get(key, "")), str(good.get(key, ""))
        if max(len(before), len(after)) <= _LONG:
            parts.append(f"{key} {before!r} -> {after!r}")
            continue
        dropped = sorted(_words(before) - _words(after))[:5]
        added = sorted(_words(after) - _words(before))[:5]
        said = [f"dropped {', '.join(dropped)}"] * bool(dropped) + [
            f"added {', '.join(added)}"
        ] * bool(added)
        parts.append(f"{key} ({'; '.join(said) or 'same names, other text'})")
    return "; ".join(parts)


def error_fix_tips(records: list[Record], group: Callable[[str], str]) -> list[dict[str, str]]:
    """Tips from an error followed, in the same attempt, by a success of the same tool with
    other arguments: what failed and what fixed it (a read in between, or changed arguments).

    Each tip is ``{tool, title, content, trust}``; the title names the tool and the kind of
    error only, so the same lesson learned twice merges into one item.
    """
    steps = [r for r in records if isinstance(r, ToolStep) and r.executed]
    tips: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, bad in enumerate(steps):
        if not bad.error or bad.tool.startswith(SKILL_PREFIX):
            continue
        for j in range(i + 1, len(steps)):
            good = steps[j]
            if good.tool != bad.tool or good.error or good.arguments == bad.arguments:
                continue
            if not _related(bad.arguments, good.arguments):
                continue  # another job done with the same tool, not the fix
            between = [s for s in steps[i + 1 : j] if not s.error]
            # a read fixed it only if the new arguments use something it showed that the
            # failed ones did not (a column name from a header, a path from a listing)
            new_words = _words(json.dumps(good.arguments)) - _words(json.dumps(bad.arguments))
            reads = [
                s
                for s in between
                if (s.tool in _READS or group(s.tool) == "browser") and new_words & _words(s.output)
            ]
            kind = _error_kind(bad.error or "", bad.output)
            if reads:
                fix = f"read first ({', '.join(dict.fromkeys(s.tool for s in reads))}) and use the names it shows"
                web = any(group(s.tool) == "browser" for s in reads)
            else:
                changed = sorted(
                    k for k in {*bad.arguments, *good.arguments}
                    if bad.arguments.get(k) != good.arguments.get(k)
                )  # fmt: skip
                fix = f"change {', '.join(changed)}"
                web = False
            title = f"{bad.tool}: after {kind}, {fix.split(' (')[0]}"
            if title in seen:
                break
            seen.add(title)
            first = _ERROR_KIND.search(f"{bad.error}\n{bad.output}")
            line = next(
                (
                    x
                    for x in f"{bad.output}\n{bad.error}".splitlines()
                    if first and first.group(1) in x
                ),
                bad.error.strip().splitlines()[0] if bad.error.strip() else kind,
            )[:200]
            tips.append(
                {
                    "tool": bad.tool,
                    "title": title,
                    "content": (
                        f"{bad.tool} failed with {line.strip()!r}; what worked next: {fix}: "
                        f"{_change(bad.arguments, good.arguments)}."
                    ),
                    "trust": "untrusted" if web else "trusted",
                }
            )
            break
    return tips


def learn_tips(state: AgentState, ctx: RunContext, records: list[Record]) -> list[str]:
    """Write the error-and-fix tips of an attempt (duplicates merge in the gate)."""
    registry = ctx.registry

    def group(name: str) -> str:
        return registry.get(name).group if name in registry else ""

    sub = current_subtask(state)
    written = []
    for tip in error_fix_tips(records, group):
        res = ctx.memory.propose(
            level="tool",
            scope=f"tool/{tip['tool']}",
            title=tip["title"],
            content=tip["content"],
            when_to_use=f"Using {tip['tool']}.",
            source_trust=tip["trust"],
            actor="learner",
            episode_success=True,
            provenance=_provenance(state, ctx, sub.goal if sub else ""),
        )
        if res.item is not None and res.action != "rejected":
            written.append(str(res.item.id))
    return written


async def learn_from_attempt(
    state: AgentState,
    ctx: RunContext,
    records: list[Record],
    *,
    achieved: bool,
    start: Path | None,
) -> tuple[list[str], list[str]]:
    """Everything code learns from one judged attempt: ids written and notes on what happened.

    ``start`` (the attempt's start-state copy) is removed afterwards."""
    try:
        written, notes = learn_tips(state, ctx, records), []
        if achieved:
            item, note = await learn_skill(state, ctx, records, start)
            notes.append(note)
            if item is not None:
                written.append(item)
        return written, notes
    finally:
        if start is not None:
            shutil.rmtree(start.parent, ignore_errors=True)


__all__ = [
    "ECHO_REASON",
    "echoes_untrusted",
    "error_fix_tips",
    "files_in",
    "learn_from_attempt",
    "record_use",
    "remember",
    "replay",
    "snapshot",
    "source_trust",
]
