"""`journeyman config`: show the effective configuration, where it lives, and check a model.

Heavy imports stay inside the commands so that ``journeyman --help`` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from agent.config import Settings

app = typer.Typer(
    help="The configuration: show it (secrets masked), find its files, check a model.",
    no_args_is_help=True,
)

ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Profile name (default: the active one).")
]
_SECRET_WORDS = ("key", "token", "secret", "password")


@app.command()
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    model: ModelOpt = None,
) -> None:
    """Print the effective configuration (files + environment), secrets masked."""
    from agent.config import load_settings, resolve_profile

    settings = load_settings()
    active, _ = resolve_profile(settings, model)
    data = effective_config(settings, active=active)
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print_rich(data)


@app.command()
def path() -> None:
    """The configuration files, highest priority first, and whether each exists."""
    from agent.config import config_files

    for label, file in zip(("project", "user"), config_files(), strict=True):
        state = "exists" if file.is_file() else "not found"
        typer.echo(f"{label}: {file} ({state})")
    typer.echo("environment: JOURNEYMAN_* variables override both (nested with __)")


@app.command()
def check(
    model: ModelOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the provider.")
    ] = 10.0,
) -> None:
    """Resolve a profile and ping its provider; exit code 2 when it cannot be used."""
    import asyncio
    import time

    from agent.config import load_settings, resolve_profile
    from agent.llm.factory import build_llm

    settings = load_settings()
    name, profile = resolve_profile(settings, model)
    settings.retry = settings.retry.model_copy(
        update={
            "max_attempts": 2,
            "timeout_s": timeout,
            "max_total_wait_s": min(settings.retry.max_total_wait_s, 2.0),
            "max_wait_s": min(settings.retry.max_wait_s, 1.0),
        }
    )
    llm = build_llm(settings, name)
    started = time.monotonic()
    models = asyncio.run(_ping(llm, local=profile.local))
    elapsed = time.monotonic() - started
    listed = (
        ""
        if models is None
        else ("; model listed" if profile.model in models else f"; {len(models)} model(s) listed")
    )
    typer.echo(
        f"ok: profile {name!r} (model {profile.model}) at {llm.url} answered in "
        f"{elapsed:.2f}s{listed}"
    )


async def _ping(llm: Any, *, local: bool) -> list[str] | None:
    """The provider's model list, or None when it has no list but answers a tiny completion."""
    from agent.errors import ModelNotFound, ProviderUnavailable
    from agent.llm.base import Message

    try:
        try:
            return list(await llm.ping())
        except ModelNotFound:
            await llm.complete([Message.user("Reply with: ok")], max_tokens=1)
            return None
    except ProviderUnavailable as exc:
        if local:
            raise ProviderUnavailable(
                f"{exc} (start the local model with `journeyman model serve`)"
            ) from exc
        raise
    finally:
        await llm.aclose()


def effective_config(settings: Settings, *, active: str) -> dict[str, Any]:
    """The configuration as plain data: secrets masked, key variables shown as set or not."""
    from agent.config import config_files, mask_secret

    data = _mask(settings.model_dump(mode="json", exclude={"profiles"}))
    memory = data.get("memory") or {}
    if memory.get("embedding_api_key_env"):
        memory["embedding_api_key"] = mask_secret(_env(memory["embedding_api_key_env"]))
    profiles = {}
    for pname, prof in settings.all_profiles().items():
        entry = _mask(prof.model_dump(mode="json"))
        entry["api_key"] = mask_secret(prof.api_key()) if prof.api_key_env else "(none needed)"
        profiles[pname] = entry
    return {
        "active_profile": active,
        "config_files": [str(p) for p in config_files() if p.is_file()],
        "profiles": profiles,
        "settings": data,
    }


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name)


def _mask(value: Any, key: str = "") -> Any:
    """Mask values of keys that look like secrets (but not the names of variables)."""
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    lowered = key.lower()
    if (
        isinstance(value, str)
        and any(word in lowered for word in _SECRET_WORDS)
        and not lowered.endswith("_env")
    ):
        from agent.config import mask_secret

        return mask_secret(value)
    return value


def _print_rich(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.tree import Tree

    console = Console()
    if not console.is_terminal:  # piped: no terminal width to fit, keep rows on one line
        console = Console(width=160)
    files = ", ".join(data["config_files"]) or "none (defaults and environment only)"
    console.print("[bold]config files:[/]", escape(files))
    table = Table(title="model profiles", title_justify="left")
    for column in ("", "name", "model", "base url", "key variable", "key", "tools", "schema"):
        table.add_column(column)
    for pname, prof in data["profiles"].items():
        marker = "*" if pname == data["active_profile"] else ""
        tools = "native" if prof["native_tools"] else "text"
        schema = prof["schema_mode"] if prof["json_schema"] else "prompt"
        url = prof["base_url"] or ("(local server)" if prof["local"] else "(OpenAI)")
        cells = [pname, prof["model"], url, prof["api_key_env"] or "-", prof["api_key"]]
        table.add_row(marker, *(escape(c) for c in cells), tools, schema)
    console.print(table)
    tree = Tree("[bold]settings[/]")
    _add_branch(tree, data["settings"])
    console.print(tree)


def _add_branch(tree: Any, value: dict[str, Any]) -> None:
    from rich.markup import escape

    for key, item in value.items():
        if isinstance(item, dict) and item:
            _add_branch(tree.add(f"[bold]{escape(key)}[/]"), item)
        else:
            tree.add(escape(f"{key} = {json.dumps(item, ensure_ascii=False)}"))
