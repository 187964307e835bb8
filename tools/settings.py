"""Settings of the tools (a section of journeyman's configuration)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


class McpServerSettings(BaseModel):
    """One MCP server whose tools the agent may use (a ``[[tools.mcp]]`` entry).

    Either ``command`` (and ``args``) to start it over stdio, or ``url`` for a server that
    speaks streamable HTTP. ``{workspace}`` in ``args``, ``env`` values or ``cwd`` becomes
    the run's workspace folder.
    """

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$",
        description="Short name; its tools are registered as '<prefix><tool>'.",
    )
    command: str | None = Field(default=None, description="Executable of a stdio server.")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment (PATH, HOME and the like are kept)."
    )
    cwd: str | None = Field(default=None, description="Working folder; default the workspace.")
    url: str | None = Field(default=None, description="Streamable HTTP endpoint, e.g. .../mcp.")
    prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Prefix of its tool names in the registry; default '<name>_'.",
    )
    read_only: bool | list[str] = Field(
        default=False,
        description="Tools that run without approval: true for all of this server's tools, "
        "or a list of its tool names (as the server names them). Every other MCP tool is "
        "added to approval_tools.",
    )
    tools: list[str] | None = Field(
        default=None, description="Only these of its tools (as the server names them)."
    )
    start_timeout_s: float = Field(default=30.0, gt=0)
    call_timeout_s: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r}: give either command or url")
        return self

    @property
    def tool_prefix(self) -> str:
        """The prefix of this server's tools in the registry."""
        return f"{self.name}_" if self.prefix is None else self.prefix

    def is_read_only(self, tool: str) -> bool:
        """Whether configuration marks the server's tool ``tool`` read-only."""
        return self.read_only is True or (
            isinstance(self.read_only, list) and tool in self.read_only
        )


class MailAccount(BaseModel):
    """One mailbox: who sends, where mail goes out (SMTP) and where it is read (IMAP)."""

    address: str = Field(description="The sender's address, e.g. alex@acme.test.")
    user: str = Field(description="The login of both servers.")
    password: SecretStr = SecretStr("")
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    imap_host: str | None = None
    imap_port: int = Field(default=143, ge=1, le=65535)
    tls: Literal["none", "starttls", "ssl"] = Field(
        default="starttls",
        description="'none' only for a server on a trusted network (a test company's).",
    )


class ToolSettings(BaseModel):
    """Limits and policies of the tools the agent may use."""

    browser_path: Path | None = Field(
        default=None, description="Chromium executable; else Playwright's own, else `chromium`."
    )
    browser_headless: bool = True
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1"],
        description="Hosts the browser may open (exact names, '*.suffix', or '*' for any).",
    )
    browser_timeout_s: float = Field(default=15.0, gt=0)
    browser_viewport: tuple[int, int] = Field(
        default=(1280, 900), description="Width and height of every tab in CSS pixels."
    )
    observation_budget_chars: int = Field(default=6000, ge=500)
    shell_timeout_s: float = Field(default=60.0, gt=0)
    shell_max_timeout_s: float = Field(
        default=600.0, gt=0, description="Upper bound on a timeout the model asks for."
    )
    output_budget_chars: int = Field(default=8000, ge=200)
    max_file_bytes: int = Field(default=20_000_000, ge=1)
    grep_max_matches: int = Field(default=200, ge=1)
    list_max_entries: int = Field(default=500, ge=1)
    python_env_dir: Path | None = Field(
        default=None,
        description="Virtual environment of the agent's Python tool; default <workspace>/.jm-venv.",
    )
    pip_timeout_s: float = Field(default=300.0, gt=0)
    python_auto_install: list[str] = Field(
        default_factory=lambda: [
            "pandas", "numpy", "openpyxl", "matplotlib", "pyyaml", "python-docx", "tabulate"
        ],
        description="Well-known packages python_run installs into the workspace's environment "
        "when code imports one that is missing, then runs the code again (once). Only these "
        "names: a name the model made up is never installed. [] turns it off.",
    )  # fmt: skip
    sandbox: Literal["bwrap", "none"] = Field(
        default="bwrap",
        description="How shell_run, python_run and python_install run code: in a bubblewrap "
        "sandbox (workspace-only writes, no secrets, nothing left running), or 'none': "
        "unconfined, only on purpose.",
    )
    sandbox_network: Literal["none", "allowlist", "host"] = Field(
        default="none",
        description="Network of shell_run/python_run in the sandbox: 'none' (a network "
        "namespace of its own), 'allowlist' (only the host's loopback services, when "
        "allowed_hosts names 127.0.0.1/localhost) or 'host'. python_install reaches only the "
        "package index (sandbox_index_hosts).",
    )
    sandbox_index_hosts: list[str] = Field(
        default_factory=lambda: ["pypi.org", "files.pythonhosted.org"],
        description="Hosts python_install's sandbox may reach (through a proxy that allows "
        "only these); hosts of PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS are added.",
    )
    sandbox_max_processes: int = Field(default=256, ge=8, description="RLIMIT_NPROC inside.")
    sandbox_max_file_bytes: int = Field(default=2 << 30, ge=1 << 20, description="RLIMIT_FSIZE.")
    sandbox_memory_bytes: int = Field(default=8 << 30, ge=256 << 20, description="RLIMIT_AS.")
    sandbox_cpu_s: int = Field(default=900, ge=1, description="RLIMIT_CPU (seconds of CPU).")
    sandbox_hide: list[Path] = Field(
        default_factory=list,
        description="More folders the sandbox replaces with empty ones (home, journeyman's "
        "project and its venv are always hidden).",
    )
    artifacts_dir: str = Field(
        default="artifacts", description="Workspace folder for screenshots and other artifacts."
    )
    downloads_dir: str = Field(
        default="downloads", description="Workspace folder where browser downloads land."
    )
    mail: MailAccount | None = Field(
        default=None,
        description="The mail account of the mail tools ([tools.mail]); else the one a task "
        "gives (its SMTP and IMAP servers and login).",
    )
    mcp: list[McpServerSettings] = Field(
        default_factory=list,
        description="MCP servers whose tools join the registry ([[tools.mcp]] in journeyman.toml).",
    )
