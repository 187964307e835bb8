"""The write gate's decisions: merge near-duplicates, supersede contradictions, hold back
untrusted strategy, quarantine injected instructions.

The functions here are pure; :meth:`memory.store.MemoryStore.propose` gathers the
candidates (similar existing items of the same level), asks :func:`decide` and
:func:`plan` what to do, and carries the plan out in one write transaction.

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
from dataclasses import dataclass, field, replace
from typing import Any, Literal

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


def initial_status(
    status: str, *, level: str, untrusted: bool, raw: str, hold: str | None = None
) -> str:
    """A proposal's status before comparing it with the store: untrusted instructions, and
    what the caller holds back (``hold``, a reason), are quarantined; an untrusted strategic
    lesson waits as a candidate."""
    if hold or (untrusted and looks_injected(raw)):
        return "quarantined"
    if untrusted and level == "strategic":
        return "candidate"
    return status


@dataclass(frozen=True)
class Plan:
    """What the store writes for one proposal (carried out in one transaction).

    Either ``update`` (changes to the target: a merge), or ``insert_status`` (the new
    item goes in with that status, superseding the target and, with ``retire_target``,
    retiring it), or neither (a merge that brings nothing new).
    """

    action: Action
    reason: str
    update: dict[str, Any] = field(default_factory=dict)
    insert_status: str | None = None
    insert_reason: str = ""
    supersedes: str | None = None
    retire_target: bool = False


def plan(
    decision: Decision,
    item: MemoryItem,
    *,
    untrusted: bool,
    episode: str | None,
    successful: bool,
    hold: str | None = None,
    note: str | None = None,
) -> Plan:
    """Turn the gate's decision about proposal ``item`` into the writes that carry it out.

    ``hold`` is the caller's reason to quarantine; ``note`` is added to the reason of a
    new item's first version."""
    p = _plan(decision, item, untrusted=untrusted, episode=episode, successful=successful)
    if hold and p.insert_status == "quarantined":
        p = replace(p, reason=f"quarantined: {hold}", insert_reason=f"proposed; {hold}")
    if note and p.insert_status is not None:
        p = replace(p, insert_reason=f"{p.insert_reason}; {note}")
    return p


def _plan(
    decision: Decision,
    item: MemoryItem,
    *,
    untrusted: bool,
    episode: str | None,
    successful: bool,
) -> Plan:
    target = decision.target
    relearned = item.level == "skill" and decision.action == "superseded"
    if relearned:  # a skill is learned again, never contradicted (its body is code, not prose)
        decision = Decision("merged", target, decision.reason.split(" (")[0] + ": learned again")
    if decision.action == "merged" and target is not None and item.status != "quarantined":
        changes: dict[str, Any] = {
            "content": merge_text(target.content, item.content),
            "when_to_use": merge_text(target.when_to_use, item.when_to_use),
            "tags": sorted(set(target.tags) | set(item.tags)),
        }
        kept = False
        if item.level == "skill":  # bodies do not mix: a replayed body replaces, else keep
            verified = item.status == "active"
            # ... unless the body has served a successful episode: a new attempt, replayed or
            # not, may be a success judged wrongly (a curve's revenue skill was replaced by a
            # script that summed units); the proven body stays, retired only by failing uses
            replaces = verified and target.success == 0
            changes["content"] = item.content if replaces else target.content
            changes["when_to_use"] = item.when_to_use if replaces else target.when_to_use
            untrusted = untrusted or not verified  # an unverified body promotes nothing
            kept = verified and not replaces and item.content != target.content
        reason = decision.reason + ("; its body, proven in use, kept" if kept else "")
        corr = list(target.corroborations)
        if episode and successful and episode not in corr:
            corr.append(episode)
            changes["corroborations"] = corr
            reason += f"; corroborated by episode {episode}"
        if not untrusted and target.trust == "untrusted":
            changes["trust"] = "trusted"
        if target.status == "candidate" and (not untrusted or len(set(corr)) >= 2):
            changes["status"] = "active"
            reason += "; promoted to active"
        if all(getattr(target, k) == v for k, v in changes.items()):
            return Plan("merged", decision.reason + "; nothing new")
        return Plan("merged", reason, update=changes)
    if decision.action == "superseded" and target is not None:
        if untrusted and target.trust == "trusted":
            return Plan(
                "candidate",
                f"{decision.reason}; untrusted text cannot retire a trusted item: awaits approval",
                insert_status="quarantined" if item.status == "quarantined" else "candidate",
                insert_reason=f"proposed; would supersede {target.id}",
                supersedes=target.id,
            )
        return Plan(
            "superseded" if item.status == "active" else "candidate",
            decision.reason,
            insert_status=item.status,
            insert_reason=f"supersedes {target.id}",
            supersedes=target.id,
            retire_target=True,
        )
    if item.status == "quarantined":
        reason = "quarantined: untrusted text that gives instructions"
        return Plan("candidate", reason, insert_status=item.status, insert_reason="proposed")
    if item.status == "candidate" and item.level == "skill":
        reason = "unverified skill: a candidate until its first successful use"
        return Plan("candidate", reason, insert_status=item.status, insert_reason="proposed")
    if item.status == "candidate":
        reason = "untrusted strategic lesson: needs a second successful episode or approval"
        return Plan("candidate", reason, insert_status=item.status, insert_reason="proposed")
    return Plan("created", decision.reason, insert_status=item.status, insert_reason="proposed")
