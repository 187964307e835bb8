"""Namespaces: who an item belongs to (``team/acme``, ``agent/alex``, ``user/priya``).

Every item and episode carries one namespace. A store is opened with a view: the one
namespace it writes and the namespaces it reads (the written one always among them).
Retrieval, listing and export see only the readable namespaces; proposals, edits,
curation and the gate's duplicate matching touch only the written one. With no
configuration the view is the single namespace ``default``, as before namespaces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from memory.errors import InvalidInput

DEFAULT_NAMESPACE = "default"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")
_MAX_LEN = 200


def check_namespace(name: object, what: str = "namespace") -> str:
    """A valid namespace name; :class:`InvalidInput` (one line) otherwise."""
    if not isinstance(name, str) or len(name) > _MAX_LEN or not _NAME.match(name):
        raise InvalidInput(
            f"bad {what} {name!r}: use lowercase segments of letters, digits, '.', '_' and '-' "
            "joined by '/', e.g. team/acme or user/priya"
        )
    return name


def parse_namespaces(value: Any) -> list[str]:
    """A list of names from a list, a JSON list or a comma-separated string (settings
    files give lists, environment variables and the command line give text)."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise InvalidInput(f"bad namespace list {text!r}: not a JSON list") from exc
        else:
            value = [p for p in (s.strip() for s in text.split(",")) if p]
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(f"bad namespace list {value!r}: give a list of names")
    return [check_namespace(v, "read namespace") for v in value]


@dataclass(frozen=True)
class NamespaceView:
    """The namespace a store writes and the ones it reads (``write`` first, no repeats)."""

    write: str = DEFAULT_NAMESPACE
    read: tuple[str, ...] = (DEFAULT_NAMESPACE,)

    @classmethod
    def of(cls, write: str, read: Iterable[str] = ()) -> NamespaceView:
        """A checked view: ``read`` names more namespaces; the written one is always read."""
        w = check_namespace(write)
        names = [w, *(check_namespace(n, "read namespace") for n in read)]
        return cls(write=w, read=tuple(dict.fromkeys(names)))

    def readable(self, namespace: str) -> bool:
        """Whether items of ``namespace`` are visible."""
        return namespace in self.read

    def narrow(self, namespaces: Sequence[str] | None) -> tuple[str, ...]:
        """The readable namespaces among ``namespaces`` (all readable ones when None);
        :class:`InvalidInput` for a name this view does not read."""
        if namespaces is None:
            return self.read
        out = []
        for ns in namespaces:
            if not self.readable(check_namespace(ns)):
                raise InvalidInput(
                    f"namespace {ns!r} is not read by this store (it reads {', '.join(self.read)})"
                )
            out.append(ns)
        return tuple(dict.fromkeys(out))

    def condition(self, column: str = "namespace") -> tuple[str, tuple[str, ...]]:
        """An SQL condition (``?`` placeholders) matching the readable namespaces."""
        return in_namespaces(self.read, column)


def in_namespaces(names: Sequence[str], column: str = "namespace") -> tuple[str, tuple[str, ...]]:
    """``column IN (?, ...)`` over ``names``, with its parameters."""
    return f"{column} IN ({','.join('?' * len(names))})", tuple(names)
