"""Skills: parameterised sequences of tool calls, induced by code from a verified attempt.

A skill is data, never code the framework runs by itself: a list of tool calls whose
string arguments hold ``{{name}}`` placeholders. Calling it fills the placeholders and
sends each step through the same :class:`~tools.registry.ToolRegistry` as a model's
call, so the workspace sandbox and the browser allowlist refuse whatever the tool itself
would refuse. The first failing step stops the skill and its observation goes back to
the model.

Where a parameter comes from (:func:`induce`):

- a literal of an action that also occurs in the task text, the subtask goal or the
  framework's note on the input files (a file name, a column, a person, an id) becomes a
  parameter the caller passes; so does every name of the header the goal states for its
  output (`employee,total`), common word or not, with its position in that header (a
  column by the input tables' headers only: in the curve a note that offered a skill
  spelled `"header": "total"`, and `total` became a third column no new task could fill);
- a literal that only an earlier observation of the same attempt showed becomes a
  *derived* value: at run time it is read from the same position of that step's output;
- anything else in a written text (a number the model computed in its head) makes the
  attempt unfit for a skill.

Browser steps address elements by role and accessible name, resolved against the last
page observation at run time, never by the recorded page's numeric ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agent.evidence import FILE, stated_header
from agent.state import NoteStep, Record, ToolStep

SKILL_PREFIX = "skill_"
MAX_STEPS = 12
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9]")
_URL = re.compile(r"https?://[^\s\"'<>)]+")
_ITEM_ID = re.compile(r"(?<![\w&])#(\d+)\b")
_QUOTED = re.compile(r"'([^'\\\n]*)'|\"([^\"\\\n]*)\"")
_ELEMENT = re.compile(r"^\s*\[(\d+)\]\s+(\S+)(?:\s+\"([^\"]*)\")?", re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
CODE_ARGS = {"python_run": ("code",), "shell_run": ("command",)}
TEXT_ARGS = ("content", "text", "new", "new_text", "body", "value", "old")  # the model's text
ELEMENT_ARG = "element_id"
_STOP = frozenset(
    "the a an and or to of in on at by for with from into per each as is are be it its this "
    "that then than all any one two new file files column columns row rows result results "
    "write save put make read list sum total count use using called named".split()
)

ParamKind = Literal[
    "input_file", "output_file", "column", "header", "url", "number", "text", "seen"
]


class SkillParam(BaseModel):
    """One argument of a skill, with the value it had in the verified attempt."""

    name: str
    kind: ParamKind
    example: str
    # a column's values in the verified attempt, read from its table by code
    # (agent.skillbind fills a new subtask's columns by it)
    values: Literal["number", "text"] | None = None
    # a header name's place in the header the goal stated (agent.skillbind reads the name
    # at that place in a new subtask's stated header)
    position: int | None = None

    def describe(self) -> str:
        """What the model reads about this argument."""
        what = {
            "input_file": "an existing file to read",
            "output_file": "the file to write",
            "column": "a column name as the input file spells it",
            "header": "a column name of the output's header, as the task spells it",
            "url": "the page address",
            "number": "a number from the task",
            "text": "a value from the task",
            "seen": "",
        }[self.kind]
        return f"{what} (e.g. {self.example!r})"


class DerivedValue(BaseModel):
    """A value read at run time from an earlier step's output (token ``token`` of step ``step``)."""

    name: str
    step: int
    token: int
    example: str


class ElementTarget(BaseModel):
    """A page element by role and accessible name (numeric ids change between pages)."""

    role: str
    name: str


class SkillStep(BaseModel):
    """One tool call of a skill; string arguments may hold ``{{name}}`` placeholders."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    code: bool = Field(default=False, description="Placeholders sit inside program text.")
    target: ElementTarget | None = None


class Skill(BaseModel):
    """A named, parameterised sequence of tool calls (the body of a ``skill`` memory item)."""

    name: str
    when_to_use: str
    params: list[SkillParam] = Field(default_factory=list)
    derived: list[DerivedValue] = Field(default_factory=list)
    steps: list[SkillStep] = Field(min_length=1)

    @property
    def tool_name(self) -> str:
        """The name the executor's catalogue shows."""
        return SKILL_PREFIX + self.name

    def example_args(self) -> dict[str, str]:
        """The arguments of the attempt it was induced from (replayed with these)."""
        return {p.name: p.example for p in self.params}

    def spec(self) -> dict[str, Any]:
        """``{"name", "description", "parameters"}`` like a registry tool's schema."""
        tools = ", ".join(dict.fromkeys(s.tool for s in self.steps))
        return {
            "name": self.tool_name,
            "description": f"Skill (runs {len(self.steps)} steps: {tools}). {self.when_to_use}",
            "parameters": {
                "type": "object",
                "properties": {
                    p.name: {"type": "string", "description": p.describe()} for p in self.params
                },
                "required": [p.name for p in self.params],
            },
        }

    def signature(self) -> str:
        """``skill_x(input_file: str, column: str)``."""
        return f"{self.tool_name}({', '.join(f'{p.name}: str' for p in self.params)})"

    def render(self) -> str:
        """Signature and steps, for people (``memory show``)."""
        lines = [self.signature(), f"When: {self.when_to_use}"]
        for p in self.params:
            lines.append(f"  {p.name} ({p.kind}), e.g. {p.example!r}")
        for d in self.derived:
            lines.append(f"  {d.name} = token {d.token} of step {d.step + 1}'s output")
        for i, s in enumerate(self.steps, 1):
            args = json.dumps(s.arguments, ensure_ascii=False)
            target = f" on {s.target.role} {s.target.name!r}" if s.target else ""
            lines.append(f"{i}. {s.tool}{target} {args[:400]}")
        return "\n".join(lines)


def parse_skill(content: str) -> Skill | None:
    """The skill stored in an item's content (None when it is not one)."""
    try:
        return Skill.model_validate_json(content)
    except (ValidationError, ValueError):
        return None


# ---------------------------------------------------------------- induction


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _bounded(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(value) + r"(?![A-Za-z0-9_])")


def task_literals(text: str) -> list[str]:
    """Literals of the task text a skill may take as parameters, longest first: URLs,
    quoted phrases, file names, and words or numbers that are not common English."""
    found: list[str] = []
    found += _URL.findall(text)
    found += [a or b for a, b in _QUOTED.findall(text) if (a or b).strip()]
    found += [m.group(1) for m in FILE.finditer(text)]
    found += [t for t in _tokens(text) if len(t) >= 2 and t.lower() not in _STOP]
    found += _ITEM_ID.findall(text)  # "#7": an id, however short
    return sorted(dict.fromkeys(found), key=lambda s: (-len(s), s))


_COLUMNS_LINE = re.compile(r"^columns \([^)]*\): (.*)$", re.MULTILINE)


def _kind(
    value: str, given: str, start_files: set[str], header: list[str], tables: str
) -> ParamKind:
    if _URL.fullmatch(value):
        return "url"
    if FILE.fullmatch(value):
        return "input_file" if value in start_files else "output_file"
    if _NUMBER.fullmatch(value):
        return "number"
    if value in header and not _bounded(value).search(tables):
        # a name of the output's header that no input table has ("total", "month"), even
        # where the notes' prose uses the word: filled by its place in the next header
        return "header"
    if _bounded(value).search(given):
        return "column"  # a header name lands here only when an input table has it
    return "text"


class _Binder:
    """Names literals as they are met: one parameter per distinct value."""

    def __init__(
        self,
        literals: list[str],
        given: str,
        start_files: set[str],
        header: list[str],
        tables: str = "",
    ) -> None:
        self.literals = literals
        self.given = given
        self.start_files = start_files
        self.header = header  # the output header the goal states ([] when none)
        self.tables = tables  # the input tables' column names
        self.params: dict[str, SkillParam] = {}  # value -> param
        self.derived: dict[str, DerivedValue] = {}

    def _name(self, kind: str) -> str:
        used = {p.name for p in self.params.values()} | {d.name for d in self.derived.values()}
        name, n = kind, 2
        while name in used:
            name, n = f"{kind}_{n}", n + 1
        return name

    def param(self, value: str) -> str:
        if value not in self.params:
            kind = _kind(value, self.given, self.start_files, self.header, self.tables)
            at = self.header.index(value) if kind == "header" else None
            self.params[value] = SkillParam(
                name=self._name(kind), kind=kind, example=value, position=at
            )
        return "{{" + self.params[value].name + "}}"

    def derive(self, value: str, step: int, token: int) -> str:
        if value not in self.derived:
            self.derived[value] = DerivedValue(
                name=self._name("seen"), step=step, token=token, example=value
            )
        return "{{" + self.derived[value].name + "}}"

    def template(self, text: str, *, create: bool = True) -> str:
        """Replace every bounded occurrence of a task literal (longest first); without
        ``create``, only the literals that are parameters already."""
        spans: list[tuple[int, int, str]] = []
        for lit in self.literals if create else sorted(self.params, key=lambda v: -len(v)):
            for m in _bounded(lit).finditer(text):
                if all(m.end() <= a or m.start() >= b for a, b, _ in spans):
                    spans.append((m.start(), m.end(), lit))
        for a, b, lit in sorted(spans, reverse=True):
            text = text[:a] + self.param(lit) + text[b:]
        return text


def _seen_token(value: str, outputs: list[tuple[int, str]]) -> tuple[int, int] | None:
    """(step, token index) of the latest earlier output that holds ``value`` as one token."""
    for step, out in reversed(outputs):
        toks = _tokens(out)
        if value in toks:
            return step, toks.index(value)
    return None


def _template_code(text: str, binder: _Binder, outputs: list[tuple[int, str]]) -> str:
    """Parameters inside the string literals of a program (names in code stay as written)."""

    def one(m: re.Match[str]) -> str:
        quote = m.group(0)[0]
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if inner and not any(
            lit == inner or _bounded(lit).search(inner) for lit in binder.literals
        ):
            seen = _seen_token(inner, outputs)
            if seen is not None and len(inner) >= 2 and not _NUMBER.fullmatch(inner):
                return quote + binder.derive(inner, *seen) + quote
        return quote + binder.template(inner) + quote

    return _QUOTED.sub(one, text)


def _typed_by_hand(text: str, sources: str, *, code: bool) -> str | None:
    """A token of a written text that no source holds (computed in the model's head)."""
    rest = _PLACEHOLDER.sub(" ", text)
    known = set(_tokens(sources))
    if code:  # programs compute; only a literal result (a long number) is suspicious
        for n in _NUMBER.findall(rest):
            if (len(n) >= 3 or "." in n) and n not in known:
                return n
        return None
    for t in _tokens(rest):
        if (any(c.isdigit() for c in t) or len(t) >= 3) and t not in known:
            return t
    return None


def _element(step_id: Any, outputs: list[tuple[int, str]]) -> ElementTarget | None:
    """Role and name of element ``step_id`` in the latest page observation."""
    for _step, out in reversed(outputs):
        for m in _ELEMENT.finditer(out):
            if m.group(1) == str(step_id):
                return ElementTarget(role=m.group(2), name=m.group(3) or "")
        if _ELEMENT.search(out):
            return None  # the latest page did not list it
    return None


_NAME_STOP = frozenset(
    "the a an in of to with and from into as by for on at it its this that".split()
)


_SENTENCE = re.compile(r"(?<=[.!?:])\s+(?=[A-Z`(\[-])|\n+")


def _what(goal: str, binder: _Binder) -> tuple[str, str]:
    """The goal's title (a heading line, "" when none) and its sentences that hold a
    parameter, templated: a task's preamble (who you are, today's date, the apps and their
    addresses) says nothing about what the skill does and is left out. With no sentence
    that holds one, the title alone, or the first sentence: a preamble that every task of a
    company shares made a skill for one ticket family "fit" every other family's task."""
    text = binder.template(goal, create=False)
    lines = text.strip().splitlines()
    title = lines[0].lstrip("#").strip() if lines and lines[0].startswith("#") else ""
    body = "\n".join(lines[1:]) if title else text
    kept = [s for s in _SENTENCE.split(body) if _PLACEHOLDER.search(s)]
    if not kept and not title:
        kept = [s for s in _SENTENCE.split(body) if s.strip()][:1]
    return title, " ".join(" ".join(kept).split())


def _skill_name(goal: str, binder: _Binder) -> str:
    """Words of the goal's title or first sentence with a parameter, a parameter standing
    as its kind: ``add_up_column_per_column``."""
    title, what = _what(goal, binder)
    text = _PLACEHOLDER.sub(lambda m: " " + re.sub(r"_\d+$", "", m.group(1)) + " ", title or what)
    words = [w.lower() for w in re.findall(r"[A-Za-z_]+", text) if w.lower() not in _NAME_STOP]
    return "_".join(dict.fromkeys(words[:6])) or "steps"


def _describe(goal: str, binder: _Binder) -> str:
    title, what = _what(goal, binder)
    text = ": ".join(part for part in (title, what) if part)
    return _PLACEHOLDER.sub(lambda m: f"<{m.group(1)}>", text)


def induce(
    goal: str,
    task: str,
    records: list[Record],
    *,
    read_only: Callable[[str], bool],
    group: Callable[[str], str],
    start_files: Iterable[str] = (),
    headers: str = "",
) -> Skill | str:
    """The skill a verified attempt yields, or the reason it yields none.

    ``records`` are the attempt's records; ``start_files`` the workspace files that
    existed when it started (an existing file is an input, a new one an output) and
    ``headers`` their first lines (a value found there is a column).
    """
    given = "\n".join(r.text for r in records if isinstance(r, NoteStep) and r.purpose == "info")
    steps = [r for r in records if isinstance(r, ToolStep) and r.executed and not r.error]
    if any(s.tool.startswith(SKILL_PREFIX) for s in steps):
        return "the attempt used a skill"
    steps = [s for s in steps if group(s.tool) != "memory"]
    if not any(not read_only(s.tool) for s in steps):
        return "no action changed anything"
    if len(steps) > MAX_STEPS:
        return f"more than {MAX_STEPS} actions"
    header = stated_header(goal) or stated_header(task) or []
    literals = sorted(
        dict.fromkeys([*task_literals(f"{task}\n{goal}\n{given}"), *header]),
        key=lambda v: (-len(v), v),
    )
    # the input tables' column names: the start files' first lines, and the notes' listings
    tables = "\n".join([headers, *_COLUMNS_LINE.findall(given)])
    binder = _Binder(literals, f"{given}\n{headers}", set(start_files), header, tables)
    sources = f"{task}\n{goal}\n{given}"
    outputs: list[tuple[int, str]] = []
    body: list[SkillStep] = []
    for s in steps:
        code_args = CODE_ARGS.get(s.tool, ())
        args: dict[str, Any] = {}
        target = None
        for key, value in s.arguments.items():
            if key == ELEMENT_ARG and group(s.tool) == "browser":
                target = _element(value, outputs)
                if target is None or not target.name:
                    return f"{s.tool} on element {value} that no observation names"
                args[key] = value
            elif isinstance(value, str) and key in code_args:
                hand = _typed_by_hand(value, sources, code=True)
                if hand is not None:
                    return f"{s.tool} holds {hand!r}, typed by hand"
                args[key] = _template_code(value, binder, outputs)
            elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                args[key] = {k: binder.template(v) for k, v in value.items()}  # a form's fields
            elif isinstance(value, str):
                seen = _seen_token(value, outputs) if value not in literals else None
                if value in literals or value.strip() in literals:
                    args[key] = binder.param(value)
                elif seen is not None:
                    args[key] = binder.derive(value, *seen)
                else:
                    templ = binder.template(value)
                    if key in TEXT_ARGS and not read_only(s.tool):
                        hand = _typed_by_hand(templ, sources, code=False)
                        if hand is not None:
                            return f"{s.tool} writes {hand!r}, typed by hand"
                    args[key] = templ
            else:
                args[key] = value
        body.append(SkillStep(tool=s.tool, arguments=args, code=bool(code_args), target=target))
        outputs.append((len(body) - 1, s.output))
        sources += "\n" + s.output
    # a read whose output no later step uses is left out (the browser's pages stay: they
    # bring the page to the state the next step acts on)
    used = {d.step for d in binder.derived.values()}
    keep = [
        i
        for i, (st, s) in enumerate(zip(body, steps, strict=True))
        if not read_only(s.tool) or i in used or group(s.tool) == "browser"
    ]
    renumber = {old: new for new, old in enumerate(keep)}
    derived = [d.model_copy(update={"step": renumber[d.step]}) for d in binder.derived.values()]
    return Skill(
        name=_skill_name(goal, binder),
        when_to_use=_describe(goal, binder),
        params=list(binder.params.values()),
        derived=derived,
        steps=[body[i] for i in keep],
    )


def abstract(text: str, *, inputs: Iterable[str], columns: Iterable[str]) -> str:
    """The text with its specifics replaced by their kind (``<url>``, ``<input_file>``,
    ``<output_file>``, ``<column>``): how a task and a skill's ``when_to_use`` are compared, so that two tasks
    of one kind match whatever their files and columns are called."""
    known = set(inputs)
    text = _URL.sub("<url>", text)
    text = FILE.sub(lambda m: "<input_file>" if m.group(1) in known else "<output_file>", text)
    for c in sorted(set(columns), key=len, reverse=True):
        if c.strip():
            text = re.sub(r"(?<![\w<])" + re.escape(c) + r"(?![\w>])", "<column>", text)
    return text


def abstract_use(skill: Skill) -> str:
    """A skill's ``when_to_use`` with its placeholders as plain kinds (``<column_2>`` ->
    ``<column>``), comparable with :func:`abstract` of a task."""
    return re.sub(r"<([a-z]+(?:_file)?)(?:_\d+)?>", r"<\1>", skill.when_to_use)


# ---------------------------------------------------------------- running


class StepOutcome(BaseModel):
    """One step of a skill run: what was called and what it returned."""

    tool: str
    arguments: dict[str, Any]
    output: str = ""
    error: str | None = None


class SkillRun(BaseModel):
    """The result of running a skill: every step done, and the failing one if any."""

    steps: list[StepOutcome] = Field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return self.error is None

    def observation(self, limit: int = 1500) -> str:
        """What the model reads: the steps done, then the last output or the failure."""
        done = [
            f"{i}. {s.tool} {'failed' if s.error else 'ok'}" for i, s in enumerate(self.steps, 1)
        ]
        head = "Skill steps: " + "; ".join(done)
        if self.error is not None:
            return f"{head}\nStopped: {self.error}\nContinue by hand from here."
        last = self.steps[-1].output if self.steps else ""
        # small models kept re-checking a finished result until the step limit: say what
        # the next move is when the output shows the work done
        return (
            f"{head}\nLast output:\n{last[:limit]}\nEvery step succeeded. If the output above "
            "shows what the subtask asks for, give your final answer now."
        )


def _literal(value: str) -> str:
    """A value as it may sit inside a quoted string of a program."""
    return json.dumps(value)[1:-1].replace("'", "\\'")


def fill(template: Any, values: dict[str, str], *, code: bool) -> Any:
    """The template with its placeholders replaced (lists and dicts recursively)."""
    if isinstance(template, str):
        return _PLACEHOLDER.sub(
            lambda m: (
                (_literal(values[m.group(1)]) if code else values[m.group(1)])
                if m.group(1) in values
                else m.group(0)
            ),
            template,
        )
    if isinstance(template, list):
        return [fill(t, values, code=code) for t in template]
    if isinstance(template, dict):
        return {k: fill(v, values, code=code) for k, v in template.items()}
    return template


Call = Callable[[str, dict[str, Any]], Awaitable[tuple[str, str | None]]]


def bind(skill: Skill, arguments: dict[str, Any]) -> dict[str, str] | str:
    """The caller's arguments as strings, or what is wrong with them."""
    missing = [p.name for p in skill.params if not str(arguments.get(p.name, "")).strip()]
    if missing:
        return f"missing argument(s) {', '.join(missing)}; send {skill.signature()}"
    return {p.name: str(arguments[p.name]).strip() for p in skill.params}


async def run_skill(
    skill: Skill, arguments: dict[str, Any], call: Call, tools: Iterable[str]
) -> SkillRun:
    """Run the steps one by one through ``call`` (the registry's), stopping at the first
    failure. A step naming a tool outside ``tools`` (or another skill) is refused."""
    run = SkillRun()
    values = bind(skill, arguments)
    if isinstance(values, str):
        run.error = values
        return run
    allowed = set(tools)
    outputs: list[tuple[int, str]] = []
    for i, step in enumerate(skill.steps):
        if step.tool not in allowed or step.tool.startswith(SKILL_PREFIX):
            run.error = f"step {i + 1}: tool {step.tool!r} is not available"
            return run
        for d in skill.derived:
            if d.step < i and d.name not in values:
                toks = _tokens(outputs[d.step][1]) if d.step < len(outputs) else []
                if d.token >= len(toks):
                    run.error = (
                        f"step {i + 1}: the output of step {d.step + 1} is shorter than expected"
                    )
                    return run
                values[d.name] = toks[d.token]
        args = fill(step.arguments, values, code=step.code)
        if step.target is not None:
            found = _find_element(step.target, outputs)
            if found is None:
                run.error = (
                    f"step {i + 1} ({step.tool}): no {step.target.role} "
                    f"{step.target.name!r} on the current page"
                )
                run.steps.append(StepOutcome(tool=step.tool, arguments=args, error=run.error))
                return run
            args[ELEMENT_ARG] = found
        output, error = await call(step.tool, args)
        run.steps.append(StepOutcome(tool=step.tool, arguments=args, output=output, error=error))
        if error:
            run.error = f"step {i + 1} ({step.tool}) failed: {error}\n{output[:600]}".strip()
            return run
        outputs.append((i, output))
    return run


def _find_element(target: ElementTarget, outputs: list[tuple[int, str]]) -> int | None:
    for _step, out in reversed(outputs):
        if not _ELEMENT.search(out):
            continue
        for m in _ELEMENT.finditer(out):
            if m.group(2) == target.role and (m.group(3) or "") == target.name:
                return int(m.group(1))
        return None
    return None
