"""Fixtures shared by every test package.

pytest puts tests/ on sys.path for this file, so helpers import as
``from fake_openai import FakeOpenAI``. The repository root goes first: the editable
install's finder runs after sys.path, so without it ``import agent`` would resolve to
the folder tests/agent (a namespace package) instead of the real package.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from chroma_server import ChromaServer  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402
from pg_cluster import PgCluster  # noqa: E402
from ray_cluster import RayCluster  # noqa: E402


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server (see tests/fake_openai.py), stopped after the test."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A real PostgreSQL server for the session (tests/pg_cluster.py), stopped at the end.
    Tests take a database of their own with ``pg_cluster.create_database(name)``."""
    with PgCluster() as pg:
        yield pg


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    """A real ``chroma run`` server for the session (tests/chroma_server.py), stopped at the
    end. Stores on it keep apart by their store id (collections ``jm-<id>-<level>``)."""
    with ChromaServer() as chroma:
        yield chroma


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A real Ray head with two worker slots for the session (tests/ray_cluster.py), stopped
    at the end; a process it left behind fails the session's last test."""
    with RayCluster(num_cpus=2) as head:
        yield head
    assert not head.leftovers, f"the Ray head left processes behind: {head.leftovers}"
