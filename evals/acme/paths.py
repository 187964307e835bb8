"""Where the Acme Corp environment keeps its cache and its default run folder."""

from __future__ import annotations

import os
from pathlib import Path

CONVERSE_VERSION = "14.0.0"


def cache_dir() -> Path:
    """Downloaded assets shared by all run folders (converse.js, Trac's pkg_resources)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journeyman" / "acme"


def default_run_dir() -> Path:
    """The run folder used when none is given (`journeyman env up --dir`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "journeyman" / "acme"


def trac_pylib() -> Path:
    """A folder for Trac's processes only: setuptools<81 (pkg_resources) and multipart."""
    return cache_dir() / "trac-pylib"


def converse_dist() -> Path:
    """The `dist` folder of the converse.js npm package."""
    return cache_dir() / f"converse.js-{CONVERSE_VERSION}" / "package" / "dist"
