"""Mending the one slip small models make in nearly every script: a line break inside a
quoted string.

A model that writes ``'\\n'.join(rows)`` in a JSON action must escape the backslash; small
models do not, so JSON decodes ``\\n`` to a real line break and the script arrives as

    f.write('
    '.join(rows))

which does not compile ("unterminated string literal"). The code below reads such a break,
inside a one-line string (not a triple-quoted one, not a comment), as the escape ``\\n``
it stood for. It is used only when the code does not compile as written and does compile
mended, and the tool's output says that it was done and where.
"""

from __future__ import annotations

import warnings


def _compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<code>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError):
        return False
    return True


def mend_line_breaks_in_strings(code: str) -> tuple[str, list[int]] | None:
    """``(mended code, the 1-based lines where a break was read as \\n)`` when ``code``
    fails to compile with an unterminated one-line string and compiles once its breaks
    inside one-line strings are escaped; otherwise None."""
    if _compiles(code):
        return None
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
    mended = "".join(out)
    return (mended, lines) if _compiles(mended) else None
