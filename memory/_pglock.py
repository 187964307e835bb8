"""A PostgreSQL advisory lock with :class:`memory._lock.FileLock`'s interface.

A session-level advisory lock lives on one dedicated connection: it is held until
released or until that connection ends, so a writer killed with SIGKILL frees it at once
(the server notices the closed socket) and nobody waits on a dead process. Advisory lock
keys are per database, so every store (a database) has its own.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from memory.errors import StoreLocked


class AdvisoryLock:
    """An exclusive advisory lock on key ``key``; nested acquisitions in a process are free."""

    def __init__(self, connect: Callable[[], Any], key: int, *, label: str) -> None:
        self._connect = connect  # opens an autocommit psycopg connection
        self.key = key
        self.label = label
        self._conn: Any = None
        self._depth = 0
        self._thread_lock = threading.RLock()

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._depth > 0

    def try_acquire(self) -> bool:
        """Take the lock without waiting; True on success."""
        return self.acquire(timeout=0.0, raise_on_timeout=False)

    def _try(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row[0])

    def acquire(self, *, timeout: float, raise_on_timeout: bool = True) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds for another process."""
        got = (
            self._thread_lock.acquire(timeout=timeout)
            if timeout > 0
            else self._thread_lock.acquire(blocking=False)
        )
        if not got:
            if raise_on_timeout:
                raise StoreLocked(f"the memory store's {self.label} lock is busy in this process")
            return False
        if self._depth:
            self._depth += 1
            return True
        deadline = time.monotonic() + timeout
        delay = 0.001
        try:
            while not self._try():
                if time.monotonic() >= deadline:
                    self._thread_lock.release()
                    if raise_on_timeout:
                        raise StoreLocked(
                            f"another process has held the memory store's {self.label} lock "
                            f"for more than {timeout:g} s; try again later"
                        )
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        except StoreLocked:
            raise
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth = 1
        return True

    @contextlib.contextmanager
    def hold(self, *, timeout: float) -> Iterator[None]:
        """The lock held for the length of a ``with`` block (see :meth:`acquire`)."""
        self.acquire(timeout=timeout)
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        """Undo one :meth:`acquire`."""
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except Exception:  # connection gone: the server released the lock with it
                self._conn = None
        self._thread_lock.release()

    def close(self) -> None:
        """Release fully and close the connection."""
        while self._depth:
            self.release()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
