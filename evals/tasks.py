"""Tasks and suites: ``evals/suites/<suite>/<task>/`` with ``task.md`` and ``task.yaml``.

``task.md`` is the only text the agent sees. It names the apps by placeholders that
:meth:`Task.prompt` fills from the running environment:

=================  ==========================================================
``{trac_url}``     Trac (tickets, wiki, milestones, roadmap)
``{files_url}``    the WsgiDAV file share (read in a browser, write by WebDAV)
``{calendar_url}`` Radicale (CalDAV; ``{calendar_url}/<user>/calendar/``)
``{webmail_url}``  Roundcube; ``{smtp_host}``, ``{smtp_port}``, ``{imap_port}``
``{chat_url}``     converse.js on Prosody; ``{xmpp_port}``, ``{xmpp_domain}``
``{workspace}``    the agent's workspace folder
=================  ==========================================================

``task.yaml`` is a :class:`TaskSpec`: apps, seed data, limits, category, family,
difficulty, and the grader and oracle solution as ``module:function`` references.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from evals.acme.manager import Environment
from evals.acme.seed import Seed

SUITES_DIR = Path(__file__).parent / "suites"

AppName = Literal["trac", "files", "calendar", "mail", "chat"]
Category = Literal["engineering", "project-management", "hr", "finance", "admin", "data-analysis"]
Difficulty = Literal["micro", "short", "long"]
"""``micro``: one to three actions in the workspace or one app; ``short``: three to eight;
``long``: several apps and more steps."""
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Limits(BaseModel):
    """How much an agent may spend on the task."""

    max_steps: int = Field(default=30, ge=1)
    time_s: int = Field(default=900, ge=10)


class TaskSpec(BaseModel):
    """The contents of task.yaml."""

    model_config = ConfigDict(extra="forbid")

    title: str
    category: Category
    family: str
    difficulty: Difficulty
    apps: list[AppName] = Field(default_factory=list)
    seed: Seed = Field(default_factory=Seed)
    limits: Limits = Field(default_factory=Limits)
    grader: str = Field(description="module:function taking a GradeContext.")
    solution: str = Field(description="module:function, an async oracle taking Actions.")
    params: dict[str, Any] = Field(default_factory=dict)
    expected_actions: int | None = Field(default=None, description="Tool calls of the oracle.")


class Task(BaseModel):
    """One task folder, loaded."""

    model_config = ConfigDict(frozen=True)

    suite: str
    name: str
    folder: Path
    spec: TaskSpec
    text: str

    @property
    def id(self) -> str:
        """``suite/name``."""
        return f"{self.suite}/{self.name}"

    @cached_property
    def placeholders(self) -> list[str]:
        """The placeholders task.md uses."""
        return sorted(set(_PLACEHOLDER.findall(self.text)))

    def prompt(self, values: dict[str, str]) -> str:
        """task.md with its placeholders filled (KeyError naming any that is missing)."""
        missing = [p for p in self.placeholders if p not in values]
        if missing:
            raise KeyError(f"{self.id}: no value for placeholder(s) {', '.join(missing)}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.text)

    def prepare(self, env: Environment, workspace: Path) -> str:
        """Reset and seed the task's apps, seed the workspace; return the filled prompt."""
        workspace.mkdir(parents=True, exist_ok=True)
        if self.spec.apps:
            env.reset(self.spec.apps, seed=self.spec.seed.apply)
        self.spec.seed.write_workspace(workspace)
        return self.prompt({**env.urls(), "workspace": str(workspace)})


def load_task(folder: Path, suite: str | None = None) -> Task:
    """Load one task folder."""
    spec = TaskSpec.model_validate(yaml.safe_load((folder / "task.yaml").read_text()))
    return Task(
        suite=suite or folder.parent.name,
        name=folder.name,
        folder=folder,
        spec=spec,
        text=(folder / "task.md").read_text(),
    )


def list_suites(root: Path = SUITES_DIR) -> list[str]:
    """Names of the suites (folders under evals/suites without a leading underscore)."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))


def load_suite(name: str, root: Path = SUITES_DIR) -> list[Task]:
    """Every task of a suite, sorted by name."""
    folder = root / name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no suite {name!r} in {root} (have: {', '.join(list_suites(root))})"
        )
    return [load_task(p, name) for p in sorted(folder.iterdir()) if (p / "task.yaml").exists()]
