"""A cross-process file lock (fcntl.flock), re-entrant within a process."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from memory.errors import StoreLocked


class FileLock:
    """An exclusive advisory lock on a file; nested acquisitions in one process are free."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0
        self._thread_lock = threading.RLock()

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._depth > 0

    def try_acquire(self) -> bool:
        """Take the lock without waiting; True on success."""
        return self.acquire(timeout=0.0, raise_on_timeout=False)

    def acquire(self, *, timeout: float, raise_on_timeout: bool = True) -> bool:
        """Take the lock, waiting up to ``timeout`` seconds for another process."""
        got = (
            self._thread_lock.acquire(timeout=timeout)
            if timeout > 0
            else self._thread_lock.acquire(blocking=False)
        )
        if not got:
            if raise_on_timeout:
                raise StoreLocked(f"{self.path} is busy in this process")
            return False
        if self._depth:
            self._depth += 1
            return True
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._thread_lock.release()
                    if raise_on_timeout:
                        raise StoreLocked(
                            f"another process has held the memory store's lock {self.path} "
                            f"for more than {timeout:.0f} s; try again later"
                        ) from None
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
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
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        """Release fully and close the file."""
        while self._depth:
            self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
