"""python_run and python_install: a per-workspace venv the agent owns, isolated from ours."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import subprocess
import sys
import warnings
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tools import ToolContext, ToolRegistry, ToolSettings


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace, hence one agent venv, for the module: creating one takes seconds."""
    return tmp_path_factory.mktemp("py-ws")


@pytest_asyncio.fixture
async def pctx(shared_ws: Path) -> AsyncIterator[ToolContext]:
    async with ToolContext(shared_ws, ToolSettings(shell_timeout_s=20)) as context:
        yield context


def _build_wheel(folder: Path, name: str, version: str = "0.1") -> Path:
    """A tiny pure-Python wheel, built by hand (no network, no build backend)."""
    files = {
        f"{name}/__init__.py": f"VALUE = 'hello from {name}'\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_name = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        )
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    lines.append(f"{record_name},,")
    files[record_name] = "\n".join(lines) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


async def test_agent_install_stays_out_of_our_environment(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    ctx = pctx
    env_dir = ctx.workspace / ".jm-venv"
    name = "jm_probe_pkg"
    _build_wheel(ctx.workspace, name)
    res = await registry.call(
        "python_install", {"packages": [f"./{name}-0.1-py3-none-any.whl"], "offline": True}, ctx
    )
    assert res.ok, res.output + str(res.error)
    run = await registry.call(
        "python_run", {"code": f"import {name}, sys; print({name}.VALUE); print(sys.prefix)"}, ctx
    )
    assert run.ok, run.output
    assert f"hello from {name}" in run.output
    assert str(env_dir) in run.output
    listing = await registry.call("file_list", {}, ctx)
    assert ".jm-venv" not in listing.output  # the tool's own folder stays out of the way
    # journeyman's own interpreter cannot import it
    ours = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", f"import {name}"], capture_output=True, text=True
    )
    assert ours.returncode != 0 and "ModuleNotFoundError" in ours.stderr
    # and pip inside the shell tool also targets the agent's venv, not ours
    sh = await registry.call(
        "shell_run", {"command": "python -c 'import sys; print(sys.prefix)'"}, ctx
    )
    assert str(env_dir) in sh.output


async def test_script_args_errors_and_timeout(registry: ToolRegistry, pctx: ToolContext) -> None:
    ctx = pctx
    (ctx.workspace / "s.py").write_text(
        "import sys\nprint('args', sys.argv[1:])\nraise SystemExit(3)\n"
    )
    res = await registry.call("python_run", {"script": "s.py", "args": ["a", "b"]}, ctx)
    assert res.error == "exit code 3" and "args ['a', 'b']" in res.output
    trace = await registry.call("python_run", {"code": "1/0"}, ctx)
    assert trace.error == "exit code 1: ZeroDivisionError: division by zero"
    assert "ZeroDivisionError" in trace.output
    slow = await registry.call(
        "python_run", {"code": "import time; time.sleep(60)", "timeout_s": 1}, ctx
    )
    assert slow.error and "timed out" in slow.error
    both = await registry.call("python_run", {"code": "1", "script": "s.py"}, ctx)
    assert both.error and "exactly one" in both.error
    # every field of the schema filled, the unused one empty (the 1.5B model does): it runs
    for filled in ({"code": "print(6 * 7)", "script": ""}, {"code": " ", "script": "s.py"}):
        ran = await registry.call("python_run", {**filled, "args": [], "timeout_s": None}, ctx)
        assert ran.error in (None, "exit code 3") and (
            "42" in ran.output or "args []" in ran.output
        )
    neither = await registry.call("python_run", {"code": "", "script": ""}, ctx)
    assert neither.error and "exactly one" in neither.error
    # source put in `script` (small models do) runs as code, and the output says so
    src = "import csv\nprint(sum(1 for _ in open('s.py')))"
    moved = await registry.call("python_run", {"script": src}, ctx)
    assert moved.error is None and moved.output.splitlines()[-1] == "3"
    assert "run as code" in moved.output
    missing = await registry.call("python_run", {"script": "nope.py"}, ctx)
    assert missing.error and "not a file" in missing.error
    assert not list((ctx.workspace / ".jm-run").iterdir())


async def test_code_that_does_not_compile_is_not_run(
    registry: ToolRegistry, ctx: ToolContext, pctx: ToolContext
) -> None:
    """A SyntaxError comes back at once: no venv is made, no process started."""
    one_line = "import csv; with open('a.csv') as f: print(f.read())"
    res = await registry.call("python_run", {"code": one_line}, ctx)
    assert res.error == "SyntaxError on line 1: invalid syntax"
    assert res.output.splitlines()[2:] == [
        '  File "<code>", line 1',
        "    " + one_line,
        "                ^^^^",
        "SyntaxError: invalid syntax",
        "Hint: put each statement on its own line; `for`, `with`, `if` ... cannot follow `;`.",
    ]
    assert res.data["returncode"] is None
    # source in `script` is checked too; an error elsewhere gets no hint about `;`
    moved = await registry.call("python_run", {"script": "x = 1\nfor r in []:\nprint(r)"}, ctx)
    assert (
        moved.error
        == "IndentationError on line 3: expected an indented block after 'for' statement on line 2"
    )
    assert "run as code" in moved.output and "Hint" not in moved.output
    assert not (ctx.workspace / ".jm-venv").exists() and not (ctx.workspace / ".jm-run").exists()
    # valid code still runs: `;` between simple statements, and an invalid escape, whose
    # warning must not fail the check even where our own process turns warnings into errors
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = await registry.call("python_run", {"code": "import sys; x = '\\d'; print(x)"}, pctx)
    assert ok.error is None and ok.output.splitlines()[-1] == "\\d"


async def test_slips_of_small_models_are_mended_or_hinted(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    """A model that writes ``'\\n'.join(rows)`` in a JSON action without escaping the
    backslash sends real line breaks inside one-line strings; the code runs as meant, and
    the output says where it was read so. Code broken otherwise is still not run."""
    code = (
        "rows = ['x,1', 'y,2']\n"
        "with open('mended.csv', 'w') as f:\n"
        "    f.write('k,v\n' + '\n'.join(rows) + \"\n\")\n"
        "# don't: a quote in a comment\n"
        "print('''done''')\n"
    )
    res = await registry.call("python_run", {"code": code}, pctx)
    assert res.error is None, res.output
    assert res.output.startswith(
        "[the code did not compile as sent; mended: "
        "a line break inside a quoted string (line 3, 4, 5) read as \\n]\n"
    )
    assert (pctx.workspace / "mended.csv").read_text() == "k,v\nx,1\ny,2\n"
    assert "\ndone\n" in res.output
    # the action's own closing braces swallowed into the code (a quote of the JSON lost)
    tail = await registry.call(
        "python_run", {"code": "totals = {'a': 2}\nprint(totals['a'] * 21)}}"}, pctx
    )
    assert tail.error is None and "the '}}' at its end, which opens nowhere, cut" in tail.output
    assert tail.output.endswith("\n42")
    # ... and the closing parenthesis lost with the quote: the 1.5B model's own reply
    lost = "rows = ['a', 'b']\nwith open('lost.txt', 'w') as f:\n    f.write('\n'.join(rows)}}"
    res = await registry.call("python_run", {"code": lost}, pctx)
    assert res.error is None, res.output
    assert "')' added at its end" in res.output
    assert (pctx.workspace / "lost.txt").read_text() == "a\nb"
    # the header read as data: the error comes back with a hint naming the header
    (pctx.workspace / "visits.csv").write_text("clinic,patients\nNorth,4\nSouth,9\n")
    loop = (
        "t = 0\nfor line in open('visits.csv'):\n    t += int(line.strip().split(',')[1])\nprint(t)"
    )
    res = await registry.call("python_run", {"code": loop}, pctx)
    assert (
        res.error == "exit code 1: ValueError: invalid literal for int() with base 10: 'patients'"
    )
    assert "Hint: 'patients' is a column name: the first line of visits.csv is its header" in (
        res.output
    )
    # a string left open is another mistake: reported, not "mended" into something else
    broken = await registry.call("python_run", {"code": "print('hello)\nx = 1\n"}, pctx)
    assert broken.error is not None and "unterminated string literal" in broken.error
    assert "read as the escape" not in broken.output


async def test_a_missing_module_says_how_to_install_it(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    """Small models reach for pandas or sklearn first: the error names the package to install."""
    res = await registry.call("python_run", {"code": "import sklearn.linear_model"}, pctx)
    assert res.error == "exit code 1: module 'sklearn' is not installed in the workspace's Python"
    assert "ModuleNotFoundError: No module named 'sklearn'" in res.output
    assert res.output.splitlines()[-1] == (
        "Hint: install it with python_install (packages: ['scikit-learn']), "
        "or use the standard library (csv, json, statistics, ...)."
    )
    other = await registry.call("python_run", {"code": "raise SystemExit(3)"}, pctx)
    assert other.error == "exit code 3" and "Hint" not in other.output


async def test_a_well_known_missing_package_is_installed_and_the_code_run_again(
    registry: ToolRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only names on the settings' list are installed; a made-up one is only reported."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _build_wheel(wheels, "jm_known_pkg")
    _build_wheel(wheels, "jm_made_up_pkg")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip finds them here, offline
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    ws = tmp_path / "ws"
    ws.mkdir()
    settings = ToolSettings(shell_timeout_s=30, python_auto_install=["jm-known-pkg"])
    async with ToolContext(ws, settings) as ctx:
        res = await registry.call(
            "python_run", {"code": "import jm_known_pkg\nprint(jm_known_pkg.VALUE)"}, ctx
        )
        assert res.error is None, res.output
        assert res.output.splitlines()[0] == (
            "[jm_known_pkg was missing: installed it, then ran the code again]"
        )
        assert res.output.splitlines()[-1] == "hello from jm_known_pkg"
        assert res.data["installed"] == ["jm_known_pkg"]

        made_up = await registry.call("python_run", {"code": "import jm_made_up_pkg"}, ctx)
        assert made_up.error == (
            "exit code 1: module 'jm_made_up_pkg' is not installed in the workspace's Python"
        )
        assert made_up.data["installed"] == []
        site = next((ws / ".jm-venv" / "lib").glob("python*/site-packages"))
        assert (site / "jm_known_pkg").is_dir() and not (site / "jm_made_up_pkg").exists()


async def test_a_tool_called_inside_a_script_gets_a_hint(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    """Small models write a tool's name inside their code; the failure says what it is.
    Several tools are tried (not only the one seen in the probes), and a NameError on a
    name that is not a tool gets no hint."""
    for name, code in [
        ("file_write", "rows = [1, 2]\nfile_write('out.txt', str(sum(rows)))"),
        ("file_read", "text = file_read('notes.md')"),
        ("shell_run", "shell_run(command='ls')"),
    ]:
        result = await registry.call("python_run", {"code": code}, pctx)
        assert result.error is not None and "exit code 1" in result.error
        assert f"Hint: {name} is one of your tools" in result.output, result.output
    plain = await registry.call("python_run", {"code": "print(totl)"}, pctx)
    assert plain.error is not None and "NameError" in plain.output
    assert "one of your tools" not in plain.output
    fine = await registry.call("python_run", {"code": "print('file_write')"}, pctx)
    assert fine.error is None and "Hint" not in fine.output


async def test_code_that_only_defines_functions_gets_a_hint(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    """A script that defines a function and never calls it runs and does nothing; the
    output says so. A script that calls what it defines (directly, under `__main__`, or
    through another function) or a decorated function gets no hint."""
    idle = (
        "import csv\n\ndef hours_per_person(src, dst):\n"
        "    rows = list(csv.DictReader(open(src)))\n    return rows\n"
    )
    result = await registry.call("python_run", {"code": idle}, pctx)
    assert result.error is None
    assert "Hint: the code defines hours_per_person() and calls none of it" in result.output
    two = "def a():\n    return 1\n\nasync def b():\n    return 2\n"
    both = await registry.call("python_run", {"code": two}, pctx)
    assert "defines a(), b() and calls none" in both.output
    for code in (
        idle + "hours_per_person('x.csv', 'y.csv') if False else None\n",
        "def main():\n    helper()\n\ndef helper():\n    print('ok')\n\n"
        "if __name__ == '__main__':\n    main()\n",
        "import functools\n\n@functools.lru_cache\ndef cached():\n    return 1\n",
        "print(sum([1, 2]))\n",
    ):
        ran = await registry.call("python_run", {"code": code}, pctx)
        assert ran.error is None and "Hint" not in ran.output, (code, ran.output)


async def test_a_write_into_a_folder_the_workspace_lacks_gets_a_hint(
    registry: ToolRegistry, pctx: ToolContext
) -> None:
    """The report written straight to the share's path: the folder is named, with the call
    that makes it. A missing file in a folder that exists, or a folder outside the
    workspace, gets none."""
    code = "with open('Ops/weekly/hours.csv', 'w') as f:\n    f.write('a,b\\n')\n"
    result = await registry.call("python_run", {"code": code}, pctx)
    assert result.error is not None
    assert "Hint: the folder 'Ops/weekly' does not exist in the workspace" in result.output
    assert "os.makedirs('Ops/weekly', exist_ok=True)" in result.output
    (pctx.workspace / "Ops").mkdir(exist_ok=True)
    missing = await registry.call("python_run", {"code": "open('Ops/none.csv').read()"}, pctx)
    assert missing.error is not None and "Hint: the folder" not in missing.output
    outside = await registry.call("python_run", {"code": "open('/no/such/dir/x', 'w')"}, pctx)
    assert outside.error is not None and "Hint: the folder" not in outside.output
