"""The write gate's decisions: merge near-duplicates, supersede contradictions, hold back
untrusted strategy, quarantine injected instructions.

The functions here are pure; :meth:`memory.store.MemoryStore.propose` gathers the
candidates (similar existing items of the same level) and carries out the decision.

Contradiction heuristic (documented, deliberately simple): a proposal contradicts an
existing item when it is *about the same thing* (same scope and the same normalised
title, or cosine similarity >= ``related_similarity``) and exactly one of the two texts
is negated (``never``, ``don't``, ``do not``, ``must not``, ``avoid``, ``no longer``,
``instead of``...). A caller can also say so explicitly with ``supersedes=ID``. A
contradiction supersedes the old item (retired, ``superseded_by`` set) rather than
letting both co-exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from memory.records import MemoryItem

Action = Literal["created", "merged", "superseded", "candidate", "rejected"]

_NEGATION = re.compile(
    r"(?i)\b(never|not|no longer|don't|dont|do not|does not|doesn't|must not|mustn't|"
    r"should not|shouldn't|cannot|can't|avoid|stop|instead of|wrong|incorrect)\b"
)
_INJECTION = re.compile(
    r"(?i)(ignore (all |any )?(the )?(previous|prior|above) (instructions|prompts?)|"
    r"disregard (all |the )?(previous|prior|above)|you are now|new instructions:|"
    r"system prompt|exfiltrate|send (the |your )?(api )?keys?|curl [^ ]+ \| ?(ba)?sh)"
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Decision:
    """What the gate does with one proposal."""

    action: Action
    target: MemoryItem | None
    reason: str


def normalise_title(title: str) -> str:
    """Lower-case words only, for comparing titles."""
    return " ".join(_WORD.findall(title.lower()))


def negated(text: str) -> bool:
    """True when the text states something negatively."""
    return bool(_NEGATION.search(text))


def looks_injected(text: str) -> bool:
    """True for text that tries to instruct the agent (prompt injection)."""
    return bool(_INJECTION.search(text))


def same_subject(a: MemoryItem, scope: str, title: str, similarity: float, related: float) -> bool:
    """Whether a proposal is about the same thing as an existing item."""
    if a.scope == scope and normalise_title(a.title) == normalise_title(title):
        return True
    return similarity >= related


def decide(
    *,
    scope: str,
    title: str,
    text: str,
    similar: list[tuple[MemoryItem, float]],
    duplicate: float,
    related: float,
) -> Decision:
    """Merge, supersede or create, given the most similar existing items (best first)."""
    for item, sim in similar:
        if not same_subject(item, scope, title, sim, related):
            continue
        if negated(text) != negated(item.embed_text()):
            return Decision(
                "superseded",
                item,
                f"contradicts {item.id} (similarity {sim:.2f}, negation differs)",
            )
        if sim >= duplicate or normalise_title(item.title) == normalise_title(title):
            return Decision("merged", item, f"near-duplicate of {item.id} (similarity {sim:.2f})")
    return Decision("created", None, "new")


def merge_text(old: str, new: str) -> str:
    """The merged text of a near-duplicate: the richer of the two, or both when distinct."""
    o, n = old.strip(), new.strip()
    if not o or n in o:
        return o or n
    if o in n:
        return n
    return n if len(n) >= len(o) else o
