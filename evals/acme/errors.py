"""Fatal errors of the Acme Corp environment, each with a message naming the fix.

They subclass :class:`agent.errors.JourneymanError` with exit code 2, so the CLI
prints one line on stderr and exits 2.
"""

from __future__ import annotations

from agent.errors import JourneymanError


class AcmeError(JourneymanError):
    """Base class: the Acme Corp environment cannot do what was asked."""

    exit_code = 2


class MissingDependency(AcmeError):
    """A system package, program or cached asset an app needs is absent."""

    def __init__(self, what: str, fix: str = "run `make acme-deps` (python -m evals.acme.install)"):
        self.what = what
        super().__init__(f"{what} is missing: {fix}")


class PortInUse(AcmeError):
    """A fixed port an app must bind is already taken."""

    def __init__(self, app: str, port: int):
        self.app = app
        self.port = port
        super().__init__(
            f"port {port} for {app} on 127.0.0.1 is already in use: stop what holds it "
            f"(`ss -ltnp 'sport = :{port}'`) or choose another port in the env config"
        )


class AppStartError(AcmeError):
    """An app exited or did not answer its ready check in time."""

    def __init__(self, app: str, reason: str, log: str | None = None):
        self.app = app
        tail = f"; see its log {log}" if log else ""
        super().__init__(f"{app} failed to start: {reason}{tail}")


class UnknownApp(AcmeError):
    """An app name that the environment does not know."""
