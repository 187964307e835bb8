"""The Python tools: scripts run in a per-workspace virtual environment the agent owns.

The environment (``<workspace>/.jm-venv`` unless configured) is created lazily with
``python -m venv`` and keeps pip, so the agent can install packages; nothing it installs
reaches journeyman's own environment (no system site-packages, journeyman's venv removed
from PATH).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import traceback
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from tools.code_mend import folder_hint, header_hint, mend, uncalled_defs
from tools.confine import Network, confine
from tools.context import ToolContext
from tools.errors import ToolError
from tools.install_specs import parse_install_spec
from tools.netrelay import relay_for
from tools.process import (
    ProcessOutcome,
    clean_env,
    run_process,
    snapshot_files,
    with_files_written,
)
from tools.registry import Tool, tool
from tools.result import ToolResult

_SCRATCH = ".jm-run"
_CREATE_TIMEOUT_S = 180.0
_COMPOUND_AFTER_SEMICOLON = re.compile(r";\s*(?:async\s+)?(?:for|while|if|with|def|class|try)\b")


def env_dir(ctx: ToolContext) -> Path:
    """Where this workspace's virtual environment lives."""
    return ctx.settings.python_env_dir or ctx.workspace / ".jm-venv"


def _base_python() -> str:
    # A venv built from a venv's python still links to the base interpreter; say so plainly.
    return getattr(sys, "_base_executable", None) or sys.executable


async def ensure_env(ctx: ToolContext) -> Path:
    """Create the workspace's virtual environment if it does not exist; returns its folder."""
    venv = env_dir(ctx)
    python = venv / "bin" / "python"
    if python.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    outcome = await run_process(
        [_base_python(), "-m", "venv", str(venv)],
        cwd=ctx.workspace,
        env=clean_env(),
        timeout_s=_CREATE_TIMEOUT_S,
        cap_bytes=4000,
    )
    if outcome.returncode != 0 or not python.exists():
        raise ToolError(
            "could not create the Python environment: "
            + (outcome.stderr or outcome.stdout or "unknown error").strip()[-1000:]
        )
    return venv


class PythonRunArgs(BaseModel):
    code: str | None = Field(default=None, description="Python source to run.")
    script: str | None = Field(
        default=None, description="Or: path of a .py file in the workspace to run."
    )
    args: list[str] = Field(default_factory=list, description="Command-line arguments.")
    timeout_s: float | None = Field(default=None, gt=0, description="Seconds before it is killed.")
    _moved: bool = PrivateAttr(default=False)  # source found in `script`, run as code

    @model_validator(mode="after")
    def _one_source(self) -> PythonRunArgs:
        if (self.script is None) == (self.code is None):
            raise ValueError("give exactly one of script or code")
        if self.script is not None and looks_like_code(self.script):
            # small models often put the source in `script`; a path never looks like this
            self.code, self.script, self._moved = self.script, None, True
        return self


def looks_like_code(text: str) -> bool:
    """True when a ``script`` value is Python source rather than a path."""
    stripped = text.strip()
    if "\n" in stripped:
        return True
    return not stripped.endswith(".py") and any(ch in stripped for ch in "()=;'\"")


class PipInstallArgs(BaseModel):
    packages: list[str] = Field(
        min_length=1,
        description="Requirement specifiers ('openpyxl', 'pandas==2.2') or workspace paths of "
        "wheels or project folders.",
    )
    offline: bool = Field(default=False, description="Do not contact a package index.")
    upgrade: bool = Field(default=False, description="Upgrade packages already installed.")


@tool(name="python_run", group="python", read_only=False)
async def python_run(ctx: ToolContext, args: PythonRunArgs) -> ToolResult:
    """Run a Python script (or code) in the workspace's own virtual environment."""
    scratch: Path | None = None
    mend_note = ""
    if args.script is not None:
        target = ctx.sandbox.resolve(args.script)
        if not target.is_file():
            raise ToolError(f"{args.script!r} is not a file")
        shown = f"python {ctx.sandbox.rel(target)}"
        venv = await ensure_env(ctx)
    else:
        shown = "python <code>" + (" (`script` held source, not a path: run as code)" * args._moved)
        mended = mend(args.code or "")
        if mended is not None:
            args = args.model_copy(update={"code": mended[0]})
            mend_note = f"[the code did not compile as sent; mended: {mended[1]}]\n"
        rejected = _syntax_error(args.code or "", shown)
        if rejected is not None:
            return rejected
        venv = await ensure_env(ctx)
        folder = ctx.workspace / _SCRATCH
        folder.mkdir(exist_ok=True)
        scratch = target = folder / f"snippet-{uuid.uuid4().hex[:8]}.py"
        await asyncio.to_thread(target.write_text, args.code or "", "utf-8")
    timeout = min(args.timeout_s or ctx.settings.shell_timeout_s, ctx.settings.shell_max_timeout_s)
    argv = [str(venv / "bin" / "python"), "-u", str(target), *args.args]

    installed: list[str] = []
    before = await asyncio.to_thread(snapshot_files, ctx.workspace)
    try:
        async with relay_for(ctx.settings, ctx.settings.sandbox_network) as relay:

            async def run() -> ProcessOutcome:
                confined = confine(
                    argv,
                    settings=ctx.settings,
                    workspace=ctx.workspace,
                    cwd=ctx.workspace,
                    network=ctx.settings.sandbox_network,
                    writable=(venv,),
                    relay=relay,
                )
                return await run_process(
                    confined,
                    cwd=ctx.workspace,
                    env=clean_env(venv=venv),
                    timeout_s=timeout,
                    cap_bytes=ctx.settings.output_budget_chars * 2,
                )

            outcome = await run()
            package = _missing_package(outcome)
            allowed = {_canonical(n) for n in ctx.settings.python_auto_install}
            if package is not None and _canonical(package) in allowed:
                pip = await _pip_install(ctx, venv, [package])
                if pip.returncode == 0 and not pip.timed_out:
                    installed.append(package)
                    outcome = await run()  # once: a second missing module is only reported
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)
    output = await with_files_written(outcome.render(shown), before, ctx.workspace)
    if installed:
        output = f"[{installed[0]} was missing: installed it, then ran the code again]\n{output}"
    output = mend_note + output
    idle = uncalled_defs(args.code or "") if outcome.returncode == 0 else []
    if idle:
        names = ", ".join(f"{d}()" for d in idle)
        output += (
            f"\nHint: the code defines {names} and calls none of it, so none of it ran: send "
            "the code again with the call at its end, with this task's values."
        )
    error = None
    if outcome.timed_out:
        error = f"timed out after {timeout:g} s; the process and its children were killed"
    elif outcome.returncode != 0:
        error = f"exit code {outcome.returncode}"
        if (
            hint := await asyncio.to_thread(header_hint, outcome.stderr, ctx.workspace)
        ) is not None:
            output += "\n" + hint
        if (where := folder_hint(outcome.stderr, ctx.workspace)) is not None:
            output += "\n" + where
        if (module := _missing_module(outcome)) is not None:
            error += f": module {module!r} is not installed in the workspace's Python"
            output += (
                f"\nHint: install it with python_install "
                f"(packages: [{_PIP_NAMES.get(module, module)!r}]), "
                "or use the standard library (csv, json, statistics, ...)."
            )
        elif last := outcome.last_line():
            # the exception, not only the exit code: the executor's notes and the verdict
            # quote the error ("You repeated the action that just failed: exit code 1")
            error += f": {last}"
    return ToolResult(
        output=output,
        error=error,
        truncated_chars=outcome.cut_bytes,
        data={
            "returncode": outcome.returncode,
            "timed_out": outcome.timed_out,
            "installed": installed,
        },
    )


def _missing_module(outcome: ProcessOutcome) -> str | None:
    """The top-level module a failed run could not import, if that is why it failed."""
    if outcome.returncode == 0 or outcome.timed_out:
        return None
    found = _MISSING_MODULE.search(outcome.stderr or "")
    return found.group(1).split(".")[0] if found else None


def _canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _missing_package(outcome: ProcessOutcome) -> str | None:
    """The distribution that provides the missing module (``yaml`` is ``pyyaml``)."""
    module = _missing_module(outcome)
    return None if module is None else _PIP_NAMES.get(module, module)


_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
# import names whose distribution is called otherwise
_PIP_NAMES = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
}


def _syntax_error(code: str, shown: str) -> ToolResult | None:
    """The failed result of source that does not compile (nothing is run), else None.

    Small models write one-line scripts such as ``import csv; with open(p) as f: ...``;
    compiling first answers them without creating the venv or starting a process.
    """
    try:
        with warnings.catch_warnings():
            # a warning (an invalid escape, say) is the interpreter's to print; here, where
            # warnings may be errors, it must not reject code that runs
            warnings.simplefilter("ignore")
            compile(code, "<code>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        lines = [f"$ {shown}", "[not run: the code does not compile]"]
        lines += "".join(traceback.format_exception_only(exc)).rstrip("\n").splitlines()
        if exc.text and _COMPOUND_AFTER_SEMICOLON.search(exc.text):
            lines.append(
                "Hint: put each statement on its own line; `for`, `with`, `if` ... "
                "cannot follow `;`."
            )
        where = f" on line {exc.lineno}" if exc.lineno else ""
        return ToolResult.fail(
            f"{type(exc).__name__}{where}: {exc.msg}",
            output="\n".join(lines),
            data={"returncode": None, "timed_out": False},
        )
    except (ValueError, RecursionError):
        pass  # e.g. nesting too deep for this process: left to the interpreter to report
    return None


@tool(name="python_install", group="python", read_only=False)
async def python_install(ctx: ToolContext, args: PipInstallArgs) -> ToolResult:
    """pip-install packages into the workspace's Python environment (used by python_run)."""
    specs = [parse_install_spec(spec, ctx.sandbox) for spec in args.packages]
    venv = await ensure_env(ctx)
    outcome = await _pip_install(ctx, venv, specs, offline=args.offline, upgrade=args.upgrade)
    error = None
    if outcome.timed_out:
        error = "pip timed out"
    elif outcome.returncode != 0:
        error = f"pip failed with exit code {outcome.returncode}"
    return ToolResult(output=outcome.render("pip install " + " ".join(args.packages)), error=error)


async def _pip_install(
    ctx: ToolContext, venv: Path, specs: list[str], *, offline: bool = False, upgrade: bool = False
) -> ProcessOutcome:
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    if offline:
        argv.append("--no-index")
    if upgrade:
        argv.append("--upgrade")
    # pip reaches the package index only (a proxy to its hosts); offline, nothing
    network: Network = "none" if offline else "index"
    async with relay_for(ctx.settings, network) as relay:
        confined = confine(
            [*argv, *specs],
            settings=ctx.settings,
            workspace=ctx.workspace,
            cwd=ctx.workspace,
            network=network,
            writable=(venv,),
            readonly=_local_indexes(),
            relay=relay,
        )
        return await _run_pip(ctx, venv, confined)


async def _run_pip(ctx: ToolContext, venv: Path, argv: list[str]) -> ProcessOutcome:
    return await run_process(
        argv,
        cwd=ctx.workspace,
        env=clean_env(venv=venv),
        timeout_s=ctx.settings.pip_timeout_s,
        cap_bytes=ctx.settings.output_budget_chars,
    )


def _local_indexes() -> tuple[Path, ...]:
    """Local folders the user's pip configuration names as package sources
    (``PIP_FIND_LINKS``, a ``file:`` ``PIP_INDEX_URL``): pip's index, so the sandbox shows
    them read-only."""
    found: list[Path] = []
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        for item in os.environ.get(name, "").split():
            if item.startswith("file:"):
                item = url2pathname(urlsplit(item).path)
            if item.startswith("/"):
                found.append(Path(item))
    return tuple(found)


PYTHON_TOOLS: list[Tool] = [python_run, python_install]
