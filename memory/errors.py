"""Errors of the memory package.

Fatal errors are :class:`MemoryStoreError` subclasses whose message a user can act on.
``exit_code`` follows the CLI convention (``agent.errors.FatalError``, a protocol the
CLI checks structurally): 2 for every known failure. The package never imports ``agent``;
the CLI maps these errors to one line on stderr.
"""

from __future__ import annotations


class MemoryStoreError(Exception):
    """A fatal memory error with a message a user can act on."""

    exit_code: int = 2


class InvalidInput(MemoryStoreError, ValueError):
    """An argument is wrong: unknown level, empty title, bad snapshot name..."""

    exit_code = 2


class ItemNotFound(MemoryStoreError, KeyError):
    """No item (or version, episode, snapshot) with that id or name."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class ReadOnlyStore(MemoryStoreError):
    """A write was attempted on a store opened with ``readonly=True``."""

    exit_code = 2


class StoreLocked(MemoryStoreError):
    """Another process held the store's writer lock for longer than the timeout."""

    exit_code = 2


class SchemaTooNew(MemoryStoreError):
    """The store was written by a newer journeyman (schema version above this code's)."""

    exit_code = 2


class StoreCorrupt(MemoryStoreError):
    """The SQLite file is damaged or is not a memory store."""

    exit_code = 2


class EmbeddingError(MemoryStoreError):
    """The embedding model could not be loaded (bad hash, missing file) or the endpoint failed."""


class StoreUnreachable(MemoryStoreError):
    """The store's database server or index server cannot be reached (down, wrong URL,
    refused login); nothing was written."""

    exit_code = 2


class NamespaceNotWritable(MemoryStoreError):
    """A change to an item of a namespace the store reads but does not write."""

    exit_code = 2
