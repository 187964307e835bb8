"""Curation rules: utility and which items retire."""

from __future__ import annotations

from collections.abc import Iterable

from memory.records import MemoryItem
from memory.utility import utility


def to_retire(items: Iterable[MemoryItem], *, min_uses: int, threshold: float) -> list[MemoryItem]:
    """Active items used at least ``min_uses`` times whose utility is below ``threshold``."""
    return [
        it
        for it in items
        if it.status == "active"
        and it.success + it.failure >= min_uses
        and utility(it.success, it.failure) < threshold
    ]
