"""What python_run does for the slips small models make in nearly every script.

Mends, used only when the code does not compile as sent and does compile mended, and named
in the tool's output:
- a line break inside a quoted string. A model that writes ``'\\n'.join(rows)`` in a JSON
  action must escape the backslash; small models do not, so JSON decodes ``\\n`` to a real
  line break and the script arrives as ``f.write('`` / ``'.join(rows))``. Such a break,
  inside a one-line string (not a triple-quoted one, not a comment), is read as ``\\n``;
- the action's own ``}}`` swallowed into the code when the reply lost a quote: closing
  braces at the end that open nowhere are cut, and brackets left open there are closed;
- an f-string's own quote reused inside its braces (``f'total {row['amount']}'``, valid
  only from Python 3.12): the inner quotes become the other kind;
- a line indented deeper than the line before it, which opens no block (an "unexpected
  indent", as a stray space before a statement): it gets that line's indent.

And a hint, when a script failed turning a table's column name into a number: the header
line was read as data.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.process import read_head


def _compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<code>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def mend(code: str) -> tuple[str, str] | None:
    """``(mended code, what was done)`` when ``code`` does not compile and compiles once
    mended; otherwise None. The mends, each kept only on the way to code that compiles:
    breaks in one-line strings escaped, closing braces at the end that open nowhere cut,
    brackets still open at the end closed."""
    if _compiles(code):
        return None
    done: list[str] = []
    for step, said in _MENDS:
        found = step(code)
        if found is None:
            continue
        code, where = found
        done.append(said.format(", ".join(str(n) for n in where)))
        if _compiles(code):
            return code, "; ".join(done)
    closers = _unclosed(code)
    if closers and _compiles(code + closers):
        done.append(f"{closers!r} added at its end to close what was open")
        return code + closers, "; ".join(done)
    return None


def _unclosed(code: str) -> str:
    """The closing brackets that the brackets left open at the end of ``code`` need, in
    order; "" when none is open or a bracket closes what it does not open."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type != tokenize.OP:
                continue
            if tok.string in pairs:
                stack.append(pairs[tok.string])
            elif tok.string in ")]}":
                if not stack or stack.pop() != tok.string:
                    return ""
    except (tokenize.TokenError, SyntaxError):
        pass  # the end of input inside brackets: what was read so far counts
    return "".join(reversed(stack))


def _cut_json_tail(code: str) -> tuple[str, list[str]] | None:
    """``code`` without the closing braces at its end that no brace in it opens, and what
    was cut; None when there are none."""
    out = code.rstrip()
    while out.endswith("}") and out.count("}") > out.count("{"):
        out = out[:-1].rstrip()
    return None if out == code.rstrip() else (out, [repr(code[len(out) :].strip())])


def _escape_breaks(code: str) -> tuple[str, list[int]] | None:
    """``code`` with every line break inside a one-line string escaped, and the 1-based
    lines where one was; None when there is none or a string is left open."""
    out: list[str] = []
    lines: list[int] = []
    quote: str | None = None
    line, i, n = 1, 0, len(code)
    while i < n:
        c = code[i]
        if quote is None:
            if c == "#":  # a comment runs to the end of its line
                j = code.find("\n", i)
                j = n if j < 0 else j
                out.append(code[i:j])
                i = j
            elif c in "'\"" and code.startswith(c * 3, i):  # triple-quoted: kept as it is
                j = code.find(c * 3, i + 3)
                if j < 0:
                    return None
                out.append(code[i : j + 3])
                line += code.count("\n", i, j + 3)
                i = j + 3
            else:
                if c in "'\"":
                    quote = c
                line += c == "\n"
                out.append(c)
                i += 1
        elif c == "\\" and i + 1 < n:  # an escape, a continued line included
            line += code[i + 1] == "\n"
            out.append(code[i : i + 2])
            i += 2
        elif c == "\n":
            out.append("\\n")
            lines.append(line)
            line += 1
            i += 1
        else:
            if c == quote:
                quote = None
            out.append(c)
            i += 1
    if not lines or quote is not None:
        return None
    return "".join(out), lines


def _align_stray_indents(code: str, most: int = 5) -> tuple[str, list[int]] | None:
    """``code`` with each line the compiler calls an unexpected indent given the indent of
    the line before it, and the 1-based lines changed; None when there is none."""
    lines = code.split("\n")
    changed: list[int] = []
    for _ in range(most):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile("\n".join(lines), "<code>", "exec", dont_inherit=True)
            break
        except IndentationError as e:
            n = (e.lineno or 0) - 1
            if e.msg != "unexpected indent" or not 0 < n < len(lines):
                break
            before = next(
                (x for x in reversed(lines[:n]) if x.strip() and not x.lstrip().startswith("#")),
                "",
            )
            indent = before[: len(before) - len(before.lstrip())]
            lines[n] = indent + lines[n].lstrip()
            changed.append(n + 1)
        except (SyntaxError, ValueError, RecursionError):
            break
    return ("\n".join(lines), changed) if changed else None


_FSTRING = re.compile(r"(?<![\w'\"])[rR]?[fF][rR]?(['\"])")


def _fstring_quotes(code: str) -> tuple[str, list[int]] | None:
    """``code`` with the quotes inside each one-line f-string's braces that are the string's
    own turned into the other kind, and the 1-based lines changed; None when there is none."""
    chars = list(code)
    lines: list[int] = []
    i = 0
    while (m := _FSTRING.search(code, i)) is not None:
        quote, i = m.group(1), m.end()
        if code.startswith(quote * 2, i - 1):  # triple-quoted or empty: left as it is
            i += 2
            continue
        other = "'" if quote == '"' else '"'
        depth = 0
        while i < len(code) and code[i] != "\n":
            c = code[i]
            if depth == 0 and c == "\\":
                i += 2
                continue
            if depth == 0 and c == quote:
                break
            if depth == 0 and code.startswith(c * 2, i) and c in "{}":  # {{ or }}: literal
                i += 2
                continue
            depth = max(0, depth + (c == "{") - (c == "}"))
            if depth > 0 and c in "'\"":  # a string inside the braces: to its end
                end = code.find(c, i + 1)
                if end < 0 or "\n" in code[i:end]:
                    return None
                if c == quote:
                    chars[i] = chars[end] = other
                    lines.append(code.count("\n", 0, i) + 1)
                i = end
            i += 1
        i += 1
    return ("".join(chars), sorted(set(lines))) if lines else None


_NOT_A_NUMBER = re.compile(
    r"(?:invalid literal for int\(\) with base \d+|could not convert string to float): "
    r"'([^'\n]{1,80})"
)
_TABLES = (".csv", ".tsv")


def header_hint(stderr: str | None, workspace: Path) -> str | None:
    """A hint when a script failed turning a table's column name into a number: the loop
    read the header line as data (the 1.5B model's most common error on a CSV after the
    syntax slips). None when the failed value is no column name of a table in the
    workspace's top folder."""
    found = _NOT_A_NUMBER.search(stderr or "")
    if found is None:
        return None
    value = found.group(1).replace("\\n", "").replace("\\r", "").strip().strip('"')
    try:
        names = sorted(p.name for p in workspace.iterdir() if p.suffix.lower() in _TABLES)[:50]
    except OSError:
        return None
    for name in names:
        try:
            first = read_head(workspace, name, 4096).decode("utf-8", "replace").splitlines()
        except OSError:
            continue
        cells = [c.strip().strip('"') for c in re.split(r"[,\t;]", first[0])] if first else []
        if value and value in cells:
            return (
                f"Hint: {value!r} is a column name: the first line of {name} is its header "
                f"({', '.join(cells)}). Skip it (next(reader) after csv.reader, or use "
                "csv.DictReader and row['column'])."
            )
    return None


_NO_FOLDER = re.compile(
    r"Cannot save file into a non-existent directory: '([^'\n]{1,200})'"
    r"|FileNotFoundError: \[Errno 2\] No such file or directory: '([^'\n]{1,200})'"
)


def folder_hint(stderr: str | None, workspace: Path) -> str | None:
    """A hint when a script failed on a folder the workspace does not have: the 1.5B model
    wrote a report straight to the share's path (`Sales/reports/revenue.csv`), which has no
    folder in the workspace, in 7 runs of the committed curves' sales-report tasks. None
    when the folder exists (the file itself is missing) or lies outside the workspace."""
    found = next(reversed(list(_NO_FOLDER.finditer(stderr or ""))), None)  # the one it died of
    if found is None:
        return None
    folder = Path(found.group(1)) if found.group(1) else Path(found.group(2)).parent
    root = workspace.resolve()
    target = (root / folder).resolve() if not folder.is_absolute() else folder.resolve()
    if target == root or not target.is_relative_to(root) or target.exists():
        return None
    rel = target.relative_to(root).as_posix()
    return (
        f"Hint: the folder {rel!r} does not exist in the workspace. To write a file there, "
        f"create it first: os.makedirs({rel!r}, exist_ok=True)."
    )


def uncalled_defs(code: str) -> list[str]:
    """The functions the code defines at its top level and never calls or names outside
    their own bodies (a script that only defines ``def total(...)`` runs and does nothing:
    in the curve the 1.5B model sent such a script three times and called the task done).
    Decorated functions are left out (a decorator may register them)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    defs = [
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.decorator_list
    ]
    named = {
        x.id
        for n in tree.body
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        for x in ast.walk(n)
        if isinstance(x, ast.Name)
    }
    return [] if named & set(defs) else defs  # one called may call the others


# each mend, with what the output says it did ({} : the lines, or what was cut), in order
_MENDS: tuple[tuple[Callable[[str], tuple[str, list[Any]] | None], str], ...] = (
    (_escape_breaks, "a line break inside a quoted string (line {}) read as \\n"),
    (_cut_json_tail, "the {} at its end, which opens nowhere, cut"),
    (_fstring_quotes, "an f-string's own quotes inside its braces (line {}) swapped"),
    (_align_stray_indents, "an unexpected indent (line {}) aligned with the line before"),
)
