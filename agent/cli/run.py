"""`journeyman run`, `resume`, `session` and `demo`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the top-level run commands to the main app."""
