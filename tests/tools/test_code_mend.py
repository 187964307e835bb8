"""The mends python_run applies to code that does not compile as sent (tools/code_mend.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools.code_mend import folder_hint, mend


@pytest.mark.parametrize(
    "code",
    [
        "x = 1\nprint(x)\n",  # compiles: left alone
        "s = '''a\nb'''\nprint(s)\n",  # a triple-quoted break is valid as it is
    ],
)
def test_code_that_compiles_is_not_touched(code: str) -> None:
    assert mend(code) is None


@pytest.mark.parametrize(
    "code",
    [
        "print('hello)\nx = 1\n",  # a string left open: no break to read as \n
        "print(max([1, 2)\n",  # a bracket closed by the wrong one
        "for r in rows\n    print(r)\n",  # a missing colon is not ours to guess
        "x = 'a\n' + \n",  # escaping the break still leaves broken code
    ],
)
def test_other_mistakes_are_left_to_the_error(code: str) -> None:
    assert mend(code) is None


def test_each_mend_is_named_and_the_result_runs() -> None:
    ns: dict[str, object] = {}
    code, said = mend("parts = ['a', 'b']\n# it's fine\nout = ';'.join(parts) + '\n'}}") or ("", "")
    assert said == (
        "a line break inside a quoted string (line 3) read as \\n; "
        "the '}}' at its end, which opens nowhere, cut"
    )
    exec(code, ns)
    assert ns["out"] == "a;b\n"
    code, said = mend("total = sum([len(w) for w in ['ab', 'c']]") or ("", "")
    assert said == "')' added at its end to close what was open"
    exec(code, ns)
    assert ns["total"] == 3


FSTRINGS = [
    # (code, what it prints), as small models write for Python 3.12 (PEP 701)
    ("row = {'id': 'EXP-7'}\nprint(f'Review expense {row['id']}')", "Review expense EXP-7"),
    ('d = {"n": 2}\nprint(f"{d["n"]} of {{all}}: {d["n"] / 4:.2f}")', "2 of {all}: 0.50"),
    ("m = {'a': [3]}\nw = 4\nprint(f'{m['a'][0]:{w}}|' + f'it\\'s')", "   3|it's"),
]


@pytest.mark.parametrize(("code", "printed"), FSTRINGS)
def test_an_fstrings_own_quotes_in_its_braces_become_the_other_kind(
    code: str, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.code_mend import _fstring_quotes

    mended, lines = _fstring_quotes(code) or ("", [])
    assert lines == [code.count("\n") + 1]
    exec(mended, {})
    assert capsys.readouterr().out == printed + "\n"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="valid as sent from Python 3.12")
def test_python_run_mends_an_fstring_of_python_3_12(capsys: pytest.CaptureFixture[str]) -> None:
    code, said = mend(FSTRINGS[0][0]) or ("", "")
    assert said == "an f-string's own quotes inside its braces (line 2) swapped"
    exec(code, {})
    assert capsys.readouterr().out == "Review expense EXP-7\n"
    assert mend("print(f'{x['a'}')") is None  # a bracket left open inside: not ours to guess


@pytest.mark.parametrize(
    ("code", "lines", "printed"),
    [
        ("rows = [1, 2]\n n = len(rows)\nprint(n)", "2", "2"),  # a stray space
        ("for r in [1, 2]:\n    x = r\n      y = 2 * x\nprint(x + y)", "3", "6"),
        ("x = 1\n    # a comment\n  y = 2\n   print(x + y)", "3, 4", "3"),
    ],
)
def test_an_unexpected_indent_takes_the_indent_of_the_line_before(
    code: str, lines: str, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mended, said = mend(code) or ("", "")
    assert said == f"an unexpected indent (line {lines}) aligned with the line before"
    exec(mended, {})
    assert capsys.readouterr().out == printed + "\n"


def test_a_missing_block_is_not_guessed() -> None:
    assert mend("if True:\nprint(1)") is None  # an indent missing, not one too many


def test_a_header_read_as_data_gets_a_hint(tmp_path) -> None:
    from tools.code_mend import header_hint

    (tmp_path / "stock.tsv").write_text("sku\tshelf\tcount\nA1\t3\t7\n")
    (tmp_path / "notes.txt").write_text("count\n")
    err = "ValueError: invalid literal for int() with base 10: 'count\\n'"
    hint = header_hint(err, tmp_path)
    assert hint is not None and "'count' is a column name" in hint and "stock.tsv" in hint
    assert "sku, shelf, count" in hint
    as_float = "ValueError: could not convert string to float: 'shelf'"
    assert header_hint(as_float, tmp_path) is not None
    # a value that is no column name, or no table at all: no hint
    assert (
        header_hint("ValueError: invalid literal for int() with base 10: 'n/a'", tmp_path) is None
    )
    assert header_hint("KeyError: 'count'", tmp_path) is None
    (tmp_path / "stock.tsv").unlink()
    (tmp_path / "stock.tsv").symlink_to(tmp_path / "notes.txt")  # links are not followed
    assert header_hint(err, tmp_path) is None


def test_pandas_saving_into_a_missing_folder_is_hinted(tmp_path: Path) -> None:
    stderr = (
        "Traceback (most recent call last):\n  ...\n"
        "OSError: Cannot save file into a non-existent directory: 'Finance/q4'\n"
    )
    assert "os.makedirs('Finance/q4', exist_ok=True)" in (folder_hint(stderr, tmp_path) or "")
    (tmp_path / "Finance/q4").mkdir(parents=True)
    assert folder_hint(stderr, tmp_path) is None  # it exists now: something else failed
    assert folder_hint("ValueError: bad", tmp_path) is None
