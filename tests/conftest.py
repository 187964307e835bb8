"""Fixtures shared by every test package. This file also puts tests/ on sys.path, so
helpers import as ``from fake_openai import FakeOpenAI``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server (see tests/fake_openai.py), stopped after the test."""
    with FakeOpenAI() as fake:
        yield fake
