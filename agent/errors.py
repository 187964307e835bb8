"""Errors of the agent package, in three tiers.

* transient: retried inside the model client (never seen by callers unless the retry
  budget runs out, then re-raised as :class:`ProviderUnavailable`);
* recoverable: fed back to the model as an observation (:class:`RecoverableError`);
* fatal: a typed exception whose message a user can act on (:class:`JourneymanError`
  and subclasses). The CLI turns these into one line on stderr and an exit code.

Every package has its own fatal root (``memory.MemoryStoreError``,
``tools.ToolSetupError``, ``evals.bench.BenchError`` and this package's
:class:`JourneymanError`), because ``memory`` and ``tools`` must never import
``agent``. What unites them is structural, :class:`FatalError`: an ``exit_code``
attribute and a message a user can act on. The CLI checks that protocol in one place
(``agent/cli/_errors.py``), so a new package's errors need no import to be reported well.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class FatalError(Protocol):
    """What the CLI needs of a fatal error from any package.

    ``str(error)`` is the message (the CLI prints it on one line), ``exit_code`` the
    process's exit status: 2 for every known failure (bad input, a broken store, a
    missing browser, an unreachable model, a bad configuration), since 1 means that a
    task ran and was not achieved.
    """

    exit_code: int


class JourneymanError(Exception):
    """A fatal error with a message a user can act on (a :class:`FatalError`)."""

    exit_code: int = 2


class ConfigError(JourneymanError):
    """The configuration is invalid or incomplete (unknown profile, missing key, bad TOML)."""

    exit_code = 2


class ModelError(JourneymanError):
    """The model provider refused or failed a request in a way retrying will not fix."""


class AuthenticationFailed(ModelError):
    """401/403 from the provider."""

    exit_code = 2


class ModelNotFound(ModelError):
    """404 from the provider: wrong model id or base URL."""

    exit_code = 2


class BadRequest(ModelError):
    """400 from the provider: the request itself is wrong (context too long, bad schema)."""


class ContextOverflow(BadRequest):
    """400 because the prompt does not fit the model's context window."""


class ProviderUnavailable(ModelError):
    """Transient faults persisted past the retry budget, or the provider cannot be reached."""

    exit_code = 2


class ScriptExhausted(ModelError):
    """A scripted model was asked for more replies than its script holds."""


class StructuredOutputError(ModelError):
    """The model never produced output that validates against the requested schema."""

    def __init__(self, schema_name: str, last_error: str, attempts: int) -> None:
        self.schema_name = schema_name
        self.last_error = last_error
        self.attempts = attempts
        super().__init__(
            f"model output did not match schema {schema_name!r} after {attempts} attempt(s): "
            f"{last_error}"
        )


class RecoverableError(Exception):
    """An error the model can act on; its message becomes an observation."""
