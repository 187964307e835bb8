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
