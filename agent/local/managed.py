"""Managed mode: pull if missing, serve on a free port, yield the base URL, stop at exit.

``journeyman run`` and the benchmark runner wrap their work in :func:`managed_model` when the
active profile is local::

    with managed_model(settings, "local") as base_url:
        llm = build_llm(settings, "local", base_url=base_url)
        ...

The server is stopped when the block exits, also on an exception, Ctrl-C or SIGTERM (turned
into ``SystemExit`` while inside, when no other SIGTERM handler is installed), and the kernel
kills it if this process dies without running any cleanup (SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

from agent.config import ModelProfile, Settings
from agent.local.catalogue import get_model
from agent.local.errors import LocalModelError, ServerCrashed, ServerError
from agent.local.pull import Progress, pull
from agent.local.server import ModelServer, ServerConfig, sigterm_as_exit


def _profile(settings: Settings, profile: str | ModelProfile | None) -> ModelProfile:
    if isinstance(profile, ModelProfile):
        return profile
    from agent.config import resolve_profile

    return resolve_profile(settings, profile)[1]


def _server_for(
    settings: Settings,
    prof: ModelProfile,
    *,
    port: int | None,
    gpu: bool,
    progress: Progress | None,
) -> ModelServer:
    if not prof.local_model:
        raise LocalModelError(f"profile for {prof.model!r} names no local model (local_model)")
    model = get_model(prof.local_model)
    path = pull(model, settings.local.cache_dir, progress=progress)
    return ModelServer(
        ServerConfig(
            model_path=path,
            alias=prof.model,
            host=settings.local.host,
            port=0 if port is None else port,
            n_ctx=min(settings.local.n_ctx, prof.context_window),
            threads=settings.local.threads,
            gpu=gpu,
            tokenizer=model.hf_tokenizer,
            prompt_cache_mb=settings.local.prompt_cache_mb,
            command=tuple(settings.local.server_command),
        )
    )


@contextlib.contextmanager
def managed_model(
    settings: Settings,
    profile: str | ModelProfile | None = None,
    *,
    port: int | None = None,
    gpu: bool = False,
    progress: Progress | None = None,
    startup_timeout_s: float = 180.0,
) -> Iterator[str | None]:
    """Serve ``profile`` for the duration of the block and yield its base URL.

    ``profile`` is a profile name, a :class:`ModelProfile`, or None (the resolved default).
    A remote (non-local) profile starts nothing and yields its own ``base_url`` (None: the
    provider's default). ``port=None`` picks a free port.
    """
    prof = _profile(settings, profile)
    if not prof.local:
        yield prof.base_url
        return
    server = _server_for(settings, prof, port=port, gpu=gpu, progress=progress)
    with sigterm_as_exit():
        try:
            yield server.start(timeout_s=startup_timeout_s)
        except Exception as exc:
            crashed = server.crash_error()
            if crashed is not None and not isinstance(exc, ServerError):
                raise crashed from exc
            raise
        finally:
            server.stop()


@contextlib.asynccontextmanager
async def amanaged_model(
    settings: Settings,
    profile: str | ModelProfile | None = None,
    *,
    port: int | None = None,
    gpu: bool = False,
    progress: Progress | None = None,
    startup_timeout_s: float = 180.0,
) -> AsyncIterator[str | None]:
    """The async form of :func:`managed_model` (the pull and the health wait run in a thread).

    The server process itself is started from the event loop's thread, because the kernel
    kills it when the thread that started it ends.
    """
    prof = _profile(settings, profile)
    if not prof.local:
        yield prof.base_url
        return
    server = await asyncio.to_thread(
        _server_for, settings, prof, port=port, gpu=gpu, progress=progress
    )
    with sigterm_as_exit():
        base_url = await _start_async(server, startup_timeout_s)
        task = asyncio.current_task()
        died: list[ServerCrashed] = []
        watchdog = asyncio.create_task(_watch(server, task, died))
        try:
            yield base_url
        except (Exception, asyncio.CancelledError) as exc:
            # A crash mid-run is reported as what it is, not as a connection error the
            # client retried: the watchdog cancels the block the moment the server dies.
            crashed = died[0] if died else server.crash_error()
            if crashed is not None and not isinstance(exc, ServerError):
                if died and task is not None:
                    task.uncancel()
                raise crashed from None
            raise
        finally:
            watchdog.cancel()
            await asyncio.to_thread(server.stop)


async def _watch(
    server: ModelServer, task: asyncio.Task[object] | None, died: list[ServerCrashed]
) -> None:
    """Cancel ``task`` when the server dies by a signal (checked twice a second)."""
    while True:
        await asyncio.sleep(0.5)
        crashed = server.crash_error()
        if crashed is not None:
            died.append(crashed)
            if task is not None:
                task.cancel()
            return
        if not server.running():
            return


async def _start_async(server: ModelServer, timeout_s: float) -> str:
    server.spawn()
    try:
        await asyncio.to_thread(server.wait_ready, timeout_s)
    except BaseException:
        server.stop()
        raise
    return server.base_url
