"""shell_run: output, exit codes, caps, no stdin, no secrets, and the process-group kill."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from tools import ToolContext, ToolRegistry
from tools.process import clean_env, is_secret_name


async def _wait_dead(pids: list[int], seconds: float = 5) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for them to die."""
    for _ in range(int(seconds / 0.05)):
        if not any(_alive(p) for p in pids):
            break
        await asyncio.sleep(0.05)
    return [p for p in pids if _alive(p)]


def alive_with(marker: str) -> list[int]:
    """Host pids of live processes whose command line holds ``marker`` (a sandboxed
    process's own pids are namespace pids, so processes are found by what they run)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if marker in cmdline and _alive(int(entry)):
            found.append(int(entry))
    return found


async def wait_gone(marker: str, seconds: float = 5) -> list[int]:
    """The pids of processes running ``marker`` still alive after up to ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if not alive_with(marker):
            break
        await asyncio.sleep(0.05)
    return alive_with(marker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


async def test_output_exit_code_and_cwd(registry: ToolRegistry, ctx: ToolContext) -> None:
    (ctx.workspace / "sub").mkdir()
    res = await registry.call(
        "shell_run", {"command": "pwd; echo oops >&2; exit 4", "cwd": "sub"}, ctx
    )
    assert res.error == "exit code 4: oops"  # the last line it wrote to stderr
    assert str(ctx.workspace / "sub") in res.output and "[stderr]\noops" in res.output
    assert res.data == {"returncode": 4, "timed_out": False}
    missing = await registry.call("shell_run", {"command": "echo first; trac ticket 9"}, ctx)
    assert missing.error is not None and missing.error.startswith("exit code 127: ")
    assert missing.error.endswith("trac: command not found")
    quiet = await registry.call("shell_run", {"command": "echo only out; exit 2"}, ctx)
    assert quiet.error == "exit code 2"  # stdout holds results, not the error
    meter = await registry.call(
        "shell_run", {"command": "printf '10%%\r50%%\rcurl: (7) refused\n' >&2; exit 7"}, ctx
    )
    assert meter.error == "exit code 7: curl: (7) refused"
    silent = await registry.call("shell_run", {"command": "exit 3"}, ctx)
    assert silent.error == "exit code 3"
    ok = await registry.call("shell_run", {"command": "cat; echo done"}, ctx)  # stdin is /dev/null
    assert ok.ok and "done" in ok.output


async def test_fork_and_sleep_all_killed_at_timeout(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    script = (
        "for i in 1 2 3; do sleep 300.41 & echo $! >> pids.txt; done; "
        "(sleep 300.41 & echo $! >> pids.txt; wait) & "
        "sh -c 'sleep 300.41 & echo $! >> pids.txt; wait' & "
        "echo $$ >> pids.txt; wait"
    )
    started = time.monotonic()
    res = await registry.call("shell_run", {"command": script, "timeout_s": 1.5}, ctx)
    assert time.monotonic() - started < 10
    assert res.error and "timed out" in res.error and res.data["timed_out"]
    pids = [int(p) for p in (ctx.workspace / "pids.txt").read_text().split()]
    assert len(pids) == 6
    assert not await wait_gone("300.41")


async def test_background_leftovers_are_stopped(registry: ToolRegistry, ctx: ToolContext) -> None:
    res = await registry.call("shell_run", {"command": "sleep 300.42 & echo started"}, ctx)
    assert res.ok and "started" in res.output
    assert not await wait_gone("300.42")
    # unconfined, the tool stops them itself and says so
    ctx.settings.sandbox = "none"
    res = await registry.call("shell_run", {"command": "sleep 300.43 & echo started"}, ctx)
    assert not await wait_gone("300.43")
    assert "background processes" in res.output


async def test_output_is_capped(registry: ToolRegistry, ctx: ToolContext) -> None:
    ctx.settings.output_budget_chars = 2000
    res = await registry.call("shell_run", {"command": "seq 1 200000"}, ctx)
    assert res.ok
    assert len(res.output) <= 2000
    assert res.truncated_chars > 1_000_000
    assert res.output.splitlines()[2] == "1" and res.output.rstrip().endswith("200000")


async def test_secrets_are_stripped(
    registry: ToolRegistry, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "MY_SECRET",
        "AWS_CREDENTIALS_FILE",
        "api_key",
    ):
        monkeypatch.setenv(name, "s3cr3t-value")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    res = await registry.call("shell_run", {"command": "env"}, ctx)
    assert "s3cr3t-value" not in res.output
    assert "HARMLESS_SETTING=visible" in res.output


def test_secret_names() -> None:
    assert all(
        map(
            is_secret_name, ["OPENAI_API_KEY", "HF_TOKEN", "PGPASSWORD", "X_SECRET_Y", "OPENAI_ORG"]
        )
    )
    assert not any(map(is_secret_name, ["PATH", "HOME", "LANG", "PYTHONIOENCODING"]))


def test_own_venv_is_not_on_the_path(tmp_path: Path) -> None:
    import sys

    env = clean_env({"PATH": f"{sys.prefix}/bin:/usr/bin", "VIRTUAL_ENV": sys.prefix})
    if sys.prefix != sys.base_prefix:
        assert f"{sys.prefix}/bin" not in env["PATH"].split(os.pathsep)
    assert "VIRTUAL_ENV" not in env
    env = clean_env({"PATH": "/usr/bin"}, venv=tmp_path / "v")
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "v" / "bin")


async def test_files_a_command_writes_are_named(registry: ToolRegistry, ctx: ToolContext) -> None:
    """Evidence when a command prints nothing: which workspace files it created or changed."""
    (ctx.workspace / "old.txt").write_text("unchanged")
    (ctx.workspace / "sub").mkdir()
    res = await registry.call(
        "shell_run", {"command": "printf 'a,b\\n' > out.csv && printf x > sub/n.txt"}, ctx
    )
    assert res.error is None
    assert res.output.splitlines()[-5:] == [
        "[files written: out.csv (4 bytes), sub/n.txt (1 bytes)]",
        "[out.csv now begins:]",
        "a,b",
        "[sub/n.txt now begins:]",
        "x",
    ]
    quiet = await registry.call("shell_run", {"command": "cat old.txt"}, ctx)
    assert "files written" not in quiet.output
    # python_run reports the same way; its own scratch and environment folders are not named
    py = await registry.call("python_run", {"code": "open('out.csv', 'a').write('c,d\\n')"}, ctx)
    assert py.output.splitlines()[-4:] == [
        "[files written: out.csv (8 bytes)]",
        "[out.csv now begins:]",
        "a,b",
        "c,d",
    ], py.output
    # a long file is cut, a binary one is named only
    big = await registry.call(
        "python_run",
        {
            "code": "open('big.txt', 'w').write('y' * 5000)\nopen('b.bin', 'wb').write(b'\\xff\\x00')"
        },
        ctx,
    )
    tail = big.output.splitlines()[-3:]
    assert tail[0] == "[files written: b.bin (2 bytes), big.txt (5000 bytes)]"
    assert tail[1:] == ["[big.txt now begins:]", "y" * 240 + " ..."]
