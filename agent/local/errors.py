"""Fatal errors of the local model subsystem (exit code 2: the user can fix the cause)."""

from __future__ import annotations

from agent.errors import JourneymanError


class LocalModelError(JourneymanError):
    """A local model could not be found, fetched, verified or served."""

    exit_code = 2


class PullError(LocalModelError):
    """Fetching or verifying a model file failed; nothing half-written was left."""


class ServerError(LocalModelError):
    """The local model server could not be started or stopped as asked."""


class ServerCrashed(ServerError):
    """The server process was killed by a signal (SIGILL, SIGSEGV, ...): one line, the fix."""
