"""The mends python_run applies to code that does not compile as sent (tools/code_mend.py)."""

from __future__ import annotations

import pytest

from tools.code_mend import mend


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
