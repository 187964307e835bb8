"""Acme Corp: a local company of real open-source apps for long-horizon agent tasks."""

from evals.acme.errors import AcmeError, AppStartError, MissingDependency, PortInUse, UnknownApp
from evals.acme.manager import ALL_APPS, AppStatus, Environment, EnvState

__all__ = [
    "ALL_APPS",
    "AcmeError",
    "AppStartError",
    "AppStatus",
    "EnvState",
    "Environment",
    "MissingDependency",
    "PortInUse",
    "UnknownApp",
]
