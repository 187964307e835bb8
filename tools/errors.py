"""Errors of the tools package, in three tiers.

* transient: none here; a tool that can be retried says so in its observation;
* recoverable: :class:`ToolError` and subclasses. The registry turns them into a
  :class:`~tools.result.ToolResult` with ``error`` set, so the model reads the message
  and can try something else;
* fatal: :class:`ToolSetupError` and subclasses, raised when the environment itself is
  missing something (no browser installed) and no action of the model could fix it.
  They carry ``exit_code`` (the structural ``agent.errors.FatalError`` the CLI checks,
  without this package importing ``agent``) and a message that says how to fix it.
"""

from __future__ import annotations


class ToolError(Exception):
    """A failed tool call whose message is shown to the model (recoverable)."""


class SandboxViolation(ToolError):
    """A path or URL that would leave the workspace or the allowed hosts."""


class ToolNotFound(ToolError):
    """The model asked for a tool that is not registered or not enabled."""


class ToolSetupError(Exception):
    """The environment cannot provide a tool at all (fatal, with a fix for the user)."""

    exit_code: int = 2


class BrowserNotFound(ToolSetupError):
    """No Chromium executable was found."""
