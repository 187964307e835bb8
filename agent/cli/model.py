"""`journeyman model` commands: list, pull and serve the embedded local models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from agent.local.catalogue import LocalModel

app = typer.Typer(help="The local models: list, pull, serve.", no_args_is_help=True)


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB"


@app.command("list")
def list_models() -> None:
    """The known local models, with size, quantization, licence and whether each is present."""
    from rich.console import Console
    from rich.table import Table

    from agent.config import load_settings
    from agent.local.catalogue import CATALOGUE, DEFAULT_MODEL

    settings = load_settings()
    profiles = settings.all_profiles()
    table = Table(title=f"local models (cache: {settings.local.cache_dir.expanduser()})")
    for column in ("name", "profiles", "size", "quant.", "licence", "present"):
        table.add_column(column, no_wrap=column == "name")
    for model in CATALOGUE.values():
        used_by = [p for p, prof in profiles.items() if prof.local_model == model.name]
        name = model.name + (" (default)" if model.name == DEFAULT_MODEL else "")
        present = "yes" if model.is_present(settings.local.cache_dir) else "no"
        table.add_row(
            name, ", ".join(used_by), _gb(model.size), model.quantization, model.licence, present
        )
    Console().print(table)


def _pull_with_progress(model: LocalModel) -> None:
    """Pull ``model`` into the configured cache with a size line and a progress bar."""
    import time

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from agent.config import load_settings
    from agent.local.pull import ensure_cache_dir, pull

    settings = load_settings()
    console = Console(stderr=True)
    cache = ensure_cache_dir(settings.local.cache_dir)
    if model.is_present(cache):
        console.print(f"{model.name} is present: {model.path(cache)}")
        return
    console.print(
        f"pulling {model.name}: {_gb(model.size)} ({model.size:,} bytes), "
        f"{model.quantization}, {model.licence} -> {model.path(cache)}"
    )
    start = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("starting", total=model.size)

        def report(done: int, status: str) -> None:
            bar.update(task, completed=done, description=status[:40])

        path = pull(model, cache, progress=report)
    console.print(
        f"verified SHA-256 {model.sha256[:16]}…, saved {path} in {time.monotonic() - start:.1f} s"
    )


@app.command()
def pull(
    name: Annotated[str, typer.Argument(help="Model or local profile name (e.g. local-small).")],
) -> None:
    """Fetch a model's GGUF file into the cache, verified by its pinned SHA-256."""
    from agent.config import load_settings
    from agent.local.catalogue import model_for

    model = model_for(name, load_settings().all_profiles())
    _pull_with_progress(model)


@app.command()
def build(
    native: Annotated[
        bool,
        typer.Option(
            "--native",
            help="Build for this machine's CPU (faster here; may crash on any other CPU).",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if installed.")] = False,
) -> None:
    """Build and install llama.cpp for the local server: portable (x86-64 with AVX2) by default."""
    from agent.local.build import ensure_runtime

    record = ensure_runtime(
        "native" if native else "portable",
        force=force,
        report=lambda line: typer.echo(line, err=True),
    )
    typer.echo(f"llama.cpp {record.flavour} build {record.key} installed ({record.version})")


@app.command()
def serve(
    name: Annotated[
        str | None, typer.Argument(help="Model or local profile name; default: local.")
    ] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help="Serve with vLLM on a GPU.")] = False,
    port: Annotated[int | None, typer.Option(help="Port; default: the local.port setting.")] = None,
) -> None:
    """Serve a local model behind an OpenAI-compatible API on 127.0.0.1 until stopped."""
    import time

    from agent.config import load_settings
    from agent.local.catalogue import model_for
    from agent.local.errors import ServerError
    from agent.local.server import (
        ModelServer,
        ServerConfig,
        check_backend,
        port_in_use,
        sigterm_as_exit,
    )

    settings = load_settings()
    profiles = settings.all_profiles()
    profile_name = name or "local"
    model = model_for(profile_name, profiles)
    profile = profiles.get(profile_name)
    alias = profile.model if profile and profile.local else model.name
    host, chosen_port = settings.local.host, settings.local.port if port is None else port
    if not settings.local.server_command:
        check_backend(gpu)
        if not gpu:
            from agent.local.build import check_runs_here

            check_runs_here()
    if chosen_port and port_in_use(host, chosen_port):  # before a long pull, not after
        raise ServerError(
            f"port {chosen_port} on {host} is already in use; choose another with --port"
        )
    _pull_with_progress(model)
    server = ModelServer(
        ServerConfig(
            model_path=model.path(settings.local.cache_dir),
            alias=alias,
            host=host,
            port=chosen_port,
            n_ctx=settings.local.n_ctx,
            threads=settings.local.threads,
            gpu=gpu,
            tokenizer=model.hf_tokenizer,
            prompt_cache_mb=settings.local.prompt_cache_mb,
            command=tuple(settings.local.server_command),
        )
    )
    with sigterm_as_exit():
        try:
            start = time.monotonic()
            base_url = server.start()
            typer.echo(
                f"serving {model.name} as {alias!r} at {base_url} "
                f"(pid {server.pid}, ready in {time.monotonic() - start:.1f} s; Ctrl-C stops)",
            )
            while server.running():
                time.sleep(0.5)
            crashed = server.crash_error()
            if crashed is not None:
                raise crashed
            raise ServerError(f"the model server stopped unexpectedly:\n{server.log_tail()}")
        finally:
            server.stop()
