"""Every CLI command against a broken resource: one line on stderr, exit code 2, no traceback.

The commands are enumerated from the Typer app, so a new command fails
:func:`test_every_command_declares_its_resources` until it says here which of the four
resources it uses (and with which arguments it runs). Each (command, resource) pair then
runs as a real subprocess against real files: a store whose SQLite file is garbage, a
browser path that does not exist, a model server port nobody listens on, and a
malformed config file. Only the model is scripted (for the browser case, a model that
opens a page, so the browser must start).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from agent.cli import app

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
Resource = str  # "store" | "browser" | "model" | "config"
RESOURCES = ("store", "browser", "model", "config")
MEM = ["--memory", "mem"]


@dataclass(frozen=True)
class Use:
    """How to run one command, and which resources it needs (an empty set: none of them)."""

    args: tuple[str, ...]
    uses: frozenset[Resource]
    stdin: str = ""


def _use(*args: str, uses: str = "", stdin: str = "") -> Use:
    return Use(args, frozenset(uses.split()), stdin)


STORE = "config store"
# Command path -> arguments after it, and the resources it uses.
COMMANDS: dict[str, Use] = {
    "run": _use("Open the intranet page", "-w", "ws", *MEM, uses="config store browser model"),
    "resume": _use("no-such-thread", uses="config"),
    "session": _use("-w", "ws", *MEM, uses="config store browser model", stdin="Open it\n"),
    "demo": _use(uses="config browser model"),  # the demo keeps its own fresh memory
    "config show": _use(uses="config"),
    "config path": _use(),  # lists where config files are looked for; reads none
    "config check": _use("--timeout", "5", uses="config model"),
    "model list": _use(uses="config"),
    "model pull": _use("local-small", uses="config"),  # not run offline past the config
    "model serve": _use("local-small", uses="config"),
    # builds llama.cpp and reads no config (tests/agent/local/test_portable_runtime.py)
    "model build": _use(),
    # a broken store, browser or model is a FAIL line with its fix there (exit 1)
    "doctor": _use(uses="config"),
    "memory stats": _use(*MEM, uses=STORE),
    "memory tree": _use(*MEM, uses=STORE),
    "memory list": _use(*MEM, uses=STORE),
    "memory show": _use("it_0", *MEM, uses=STORE),
    "memory search": _use("ticket", *MEM, uses=STORE),
    "memory history": _use("it_0", *MEM, uses=STORE),
    "memory revert": _use("it_0", "1", *MEM, uses=STORE),
    "memory retire": _use("it_0", *MEM, uses=STORE),
    "memory approve": _use("it_0", *MEM, uses=STORE),
    "memory export": _use("out.jsonl", *MEM, uses=STORE),
    "memory import": _use("items.jsonl", *MEM, uses=STORE),
    "memory reindex": _use(*MEM, uses=STORE),
    "memory verify": _use(*MEM, uses=STORE),
    "memory snapshot": _use("s1", *MEM, uses=STORE),
    "memory restore": _use("s1", *MEM, uses=STORE),
    "memory curate": _use(*MEM, uses=STORE),
    "memory purge": _use("it_0", "--yes", *MEM, uses=STORE),
    "mcp serve": _use(*MEM, uses=STORE),  # stdio: the store opens before any protocol
    # The Acme apps are their own resources (tests/evals/test_acme_env.py covers their
    # errors); these commands read no config, store, browser or model.
    "env up": _use("--dir", "acme"),
    "env down": _use("--dir", "acme"),
    "env status": _use("--dir", "acme"),
    "env reset": _use("--dir", "acme"),
    # A bench's model and browser are used per task, after the Acme apps have started
    # (tests/evals/test_runner*.py cover those failures); here: its config.
    "bench run": _use("smoke", "--out", "bench", uses="config"),
    "bench report": _use("bench"),  # reads a results folder only
}


def command_paths() -> list[str]:
    """Every leaf command of the Typer app, as space-separated paths ("memory stats")."""
    paths: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        commands = getattr(command, "commands", None)
        if not isinstance(commands, dict):
            paths.append(" ".join(prefix))
            return
        for name, sub in commands.items():
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_command_declares_its_resources() -> None:
    paths = command_paths()
    assert len(paths) > 20  # the walk found the groups' commands, not only the groups
    missing = sorted(set(paths) - set(COMMANDS))
    assert not missing, (
        f"new command(s) {missing}: add them to COMMANDS in {Path(__file__).name} with the "
        "resources they use, so they are run against each broken one"
    )
    assert not set(COMMANDS) - set(paths), "COMMANDS names a command that no longer exists"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def _broken(resource: Resource, folder: Path) -> dict[str, str]:
    """Break ``resource`` in ``folder`` (the command's working directory); extra env vars."""
    (folder / "ws").mkdir()
    (folder / "items.jsonl").write_text('{"level": "strategic", "title": "t", "content": "c"}\n')
    if resource == "store":
        (folder / "mem").mkdir()
        (folder / "mem" / "memory.db").write_bytes(b"this is not an SQLite database\n" * 200)
        # a model that would open a page; the store fails first
        return {"JOURNEYMAN_LLM": "_failure_llms:browser_llm"}
    if resource == "browser":
        return {
            "JOURNEYMAN_LLM": "_failure_llms:browser_llm",
            "JOURNEYMAN_TOOLS__BROWSER_PATH": str(folder / "no-chromium" / "chromium"),
        }
    if resource == "model":
        (folder / "journeyman.toml").write_text(
            f'[profiles.down]\nmodel = "m"\nbase_url = "http://127.0.0.1:{_free_port()}/v1"\n'
            'api_key_env = ""\n\n'
            # transient faults are retried inside the client: twice, quickly, for the test
            "[retry]\nmax_attempts = 2\ninitial_wait_s = 0.01\ntimeout_s = 5\n",
            encoding="utf-8",
        )
        return {"JOURNEYMAN_MODEL": "down"}
    (folder / "journeyman.toml").write_text("[profiles.x\nmodel = ", encoding="utf-8")
    return {}


CASES = [(path, res) for path, use in COMMANDS.items() for res in RESOURCES if res in use.uses]


def _run_case(path: str, resource: Resource, folder: Path) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True)
    use = COMMANDS[path]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOURNEYMAN_", "OPENAI_")) and k != "XDG_CONFIG_HOME"
    }
    env.update(
        XDG_CONFIG_HOME=str(folder / "xdg"),
        JOURNEYMAN_RUNS_DIR=str(folder / "runs"),
        JOURNEYMAN_MEMORY__PATH=str(folder / "default-mem"),
        JOURNEYMAN_LOCAL__CACHE_DIR=str(folder / "models"),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]),
    )
    env.update(_broken(resource, folder))
    return subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", *path.split(), *use.args],
        cwd=folder,
        env=env,
        input=use.stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], object]:
    """Run every case once, a few at a time (each is a process of its own)."""
    base = tmp_path_factory.mktemp("cli-failures")

    def one(case: tuple[str, str]) -> object:
        path, res = case
        try:
            return _run_case(path, res, base / f"{path.replace(' ', '-')}-{res}")
        except Exception as exc:  # reported by the test of this case
            return exc

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(one, CASES), strict=True))


@pytest.mark.parametrize(("path", "resource"), CASES, ids=[f"{p}-{r}" for p, r in CASES])
def test_broken_resource_is_one_line_and_exit_2(
    results: dict[tuple[str, str], object], path: str, resource: Resource
) -> None:
    result = results[(path, resource)]
    assert isinstance(result, subprocess.CompletedProcess), result
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journeyman: error: "), result.stderr
    expected = {
        "store": "memory.db",
        "browser": "chromium",
        "model": "127.0.0.1:",
        "config": "journeyman.toml",
    }[resource]
    assert expected in lines[0]  # the line names what is broken, so a user can fix it
