"""`journeyman mcp`: the experience memory as a Model Context Protocol server.

The SDK and the store are imported inside the command so that ``journeyman --help`` stays
fast. With stdio (the default) stdout belongs to the protocol: nothing else is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(help="Serve the experience memory over MCP.", no_args_is_help=True)


@app.command()
def serve(
    memory: Path | None = typer.Option(
        None, "--memory", "-m", help="Memory store folder (default: settings)."
    ),
    http: int | None = typer.Option(
        None, "--http", min=1, max=65535, help="Serve streamable HTTP on 127.0.0.1:PORT/mcp."
    ),
    read_only: bool = typer.Option(
        False, "--read-only", help="Search and read only: no proposals, no outcomes."
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="The namespace written (default: memory.namespace)."
    ),
    read: list[str] | None = typer.Option(
        None,
        "--read",
        "-r",
        help="Another namespace read (repeat); default: memory.read_namespaces.",
    ),
) -> None:
    """Serve the memory to MCP clients: search_experience, get_item, propose_experience,
    record_outcome; the scope tree and items as resources; a prompt with the experience
    for a task."""
    import anyio

    from agent.cli.memory import namespace_overrides
    from agent.config import load_settings
    from agent.errors import ConfigError

    overrides = namespace_overrides(namespace, read)  # a bad name fails before anything

    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the MCP SDK is not installed: pip install 'journeyman[mcp]' (or make setup)"
        ) from exc
    from agent.mcp_server import serve as run_server
    from memory import MemoryStore

    settings = load_settings()
    if overrides:
        settings.memory = settings.memory.model_copy(update=overrides)
    path = Path(memory).expanduser() if memory else Path(settings.memory.path).expanduser()
    with MemoryStore.open(path, settings=settings.memory, readonly=read_only) as store:
        if http is not None:
            mode = "read-only" if read_only else "read-write"
            print(
                f"journeyman: serving {path} ({mode}, namespace {store.namespace}) at "
                f"http://127.0.0.1:{http}/mcp",
                file=sys.stderr,
            )
        try:
            anyio.run(lambda: run_server(store, settings, read_only=read_only, http_port=http))
        except KeyboardInterrupt:
            pass
