"""Which hosts the browser may reach: exact names, ``*.suffix`` patterns, or ``*``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

ALWAYS_ALLOWED_SCHEMES = frozenset({"about", "data", "blob"})
NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})


class HostAllowlist:
    """Decides whether a URL may be opened or requested."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self.patterns = [h.strip().lower().strip("[]") for h in hosts if h.strip()]

    @property
    def allows_all(self) -> bool:
        return "*" in self.patterns

    def host_allowed(self, host: str) -> bool:
        host = host.lower().strip("[]").rstrip(".")
        for pattern in self.patterns:
            if pattern == "*" or pattern == host:
                return True
            if pattern.startswith("*.") and (host.endswith(pattern[1:]) or host == pattern[2:]):
                return True
        return False

    def check(self, url: str) -> str | None:
        """None when ``url`` is allowed, else the reason it is refused."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ALWAYS_ALLOWED_SCHEMES:
            return None
        if scheme not in NETWORK_SCHEMES:
            return f"the {scheme or 'empty'} scheme is not allowed (only http and https)"
        host = parts.hostname or ""
        if not self.host_allowed(host):
            return f"host {host!r} is not in the allowed hosts ({', '.join(self.patterns)})"
        return None

    def link_refusal(self, href: str | None, element_id: int) -> str | None:
        """Why a link to ``href`` is not clicked (a host the browser may not reach), or None.

        Clicked, the navigation is blocked and the page loaded again under new ids, so the
        same dead link came back with another number each time: a 1.5B model clicked a 404
        page's only link (its server's home page on github.com) ten times, to the step limit.
        Not clicked, the page keeps its ids and a repeat is the same call.
        """
        if not href or not href.lower().startswith(("http:", "https:")):
            return None
        reason = self.check(href)
        if reason is None:
            return None
        return (
            f"[{element_id}] is a link to {href}, and {reason}: it was not clicked, the page "
            "is as it was. Use a link or an address on an allowed host."
        )

    def resolver_rules(self) -> str | None:
        """A ``--host-resolver-rules`` value that makes every other host unresolvable.

        Chromium applies it to every connection, redirects, sockets and IP literals
        included, so the allowlist holds even where request interception cannot see.
        """
        if self.allows_all:
            return None
        excludes = []
        for pattern in self.patterns:
            excludes.append(f"EXCLUDE [{pattern}]" if ":" in pattern else f"EXCLUDE {pattern}")
        return ", ".join(["MAP * ~NOTFOUND", *excludes])
