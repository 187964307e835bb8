"""The experience memory as an MCP server (``journeyman mcp serve``).

Any MCP client (an IDE, a desktop assistant, another agent framework) can search the
store with the agent's own retrieval, read items, propose experience through the same
write gate the agent's reflector uses, and credit items after a task. Text that arrives
this way is untrusted: a strategic lesson waits as a candidate, an injected instruction
is quarantined, exactly as for a web page the agent read.

Tools: ``search_experience``, ``get_item``, and (unless read-only) ``propose_experience``
and ``record_outcome``. Resources: ``memory://scopes`` (the scope tree) and
``memory://items/{item_id}`` (one item). Prompt: ``experience_for_task`` renders what
recall would put in the planner's prompt for a task.

``list_skills`` lists the skills the learner induced (:mod:`agent.skills`). Namespaces
(issue 20) would arrive as an option of :func:`build_server` and of ``journeyman mcp serve``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, TypeVar

from pydantic import BaseModel, Field

from agent.recall import recall_for_task, render_experience

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from agent.config import Settings

P = ParamSpec("P")
R = TypeVar("R")
SERVER_NAME = "journeyman-memory"
ACTOR = "mcp"  # the actor recorded in an item's history for writes from MCP clients
LevelName = Literal["strategic", "procedural", "tool", "episodic"]
READ_TOOLS = ("search_experience", "get_item")
WRITE_TOOLS = ("propose_experience", "record_outcome")
PLANNER_TOOLS = ("file_read", "file_write", "shell_run", "python_run", "browser_goto")
"""Tool names whose tips the prompt includes (the agent's default catalogue's core)."""

SEARCH_DOC = (
    "Search the experience memory with the agent's hybrid retrieval (vectors + BM25, "
    "re-ranked by utility), packed into a token budget; best first."
)
PROPOSE_DOC = (
    "Propose experience through journeyman's write gate. The text is untrusted: a "
    "near-duplicate merges, a strategic lesson waits as a candidate until corroborated, and "
    "text that gives instructions to an agent is quarantined."
)
PROMPT_DOC = (
    "The experience journeyman's planner would see for this task: lessons, the most similar "
    "procedures, the index of other procedures, a past attempt."
)
INSTRUCTIONS = (
    "journeyman's experience memory: lessons (strategic), procedures (procedural), tool "
    "tips (tool) and past episodes (episodic), each under a scope such as app/trac. Search "
    "before a task, read the items you use, and after the task report with record_outcome "
    "whether they helped. Proposals are untrusted until corroborated."
)


class ExperienceHit(BaseModel):
    """One search result: the item's text and the retrieval scores."""

    id: str
    namespace: str
    level: str
    scope: str
    title: str
    when_to_use: str
    content: str
    trust: str
    score: float
    vector_score: float | None
    bm25_score: float | None
    utility: float
    tokens: int


class SearchResult(BaseModel):
    """What ``search_experience`` returns, best first."""

    query: str
    hits: list[ExperienceHit]
    budget_tokens: int | None = Field(description="The token budget the hits were packed into.")


class ItemView(BaseModel):
    """One item as a client sees it: text, status, trust, provenance and usage."""

    id: str
    namespace: str
    level: str
    scope: str
    title: str
    when_to_use: str
    content: str
    tags: list[str]
    status: str
    trust: str
    version: int
    utility: float
    success: int
    failure: int
    retrieved: int
    source: str | None
    supersedes: str | None
    superseded_by: str | None


class ProposalResult(BaseModel):
    """What the write gate did with a proposal."""

    action: str = Field(description="created, merged, superseded, candidate or rejected.")
    item_id: str | None
    status: str | None = Field(description="active, candidate or quarantined.")
    trust: str | None
    reason: str
    redactions: int


class OutcomeResult(BaseModel):
    """Which items were credited or debited."""

    ids: list[str]
    success: bool


def item_view(item: Any) -> ItemView:
    """A store item as the view clients receive."""
    return ItemView(
        id=item.id,
        namespace=item.namespace,
        level=item.level,
        scope=item.scope,
        title=item.title,
        when_to_use=item.when_to_use,
        content=item.content,
        tags=list(item.tags or []),
        status=item.status,
        trust=item.trust,
        version=item.version,
        utility=round(item.utility, 4),
        success=item.success,
        failure=item.failure,
        retrieved=item.retrieved,
        source=item.prov_source,
        supersedes=item.supersedes,
        superseded_by=item.superseded_by,
    )


def default_budget(settings: Settings, level: str | None) -> int:
    """The agent's token budget for a level (lessons and procedures together for any level)."""
    m = settings.memory
    return {
        "strategic": m.strategic_budget_tokens,
        "procedural": m.procedural_budget_tokens,
        "tool": m.tool_tip_budget_tokens,
        "episodic": m.episodic_budget_tokens,
    }.get(level or "", m.strategic_budget_tokens + m.procedural_budget_tokens)


def search_experience(
    store: Any,
    settings: Settings,
    query: str,
    *,
    level: str | None = None,
    scope: str | None = None,
    k: int = 5,
    budget_tokens: int | None = None,
) -> SearchResult:
    """The agent's hybrid retrieval (what ``journeyman memory search`` shows), with text."""
    budget = default_budget(settings, level) if budget_tokens is None else budget_tokens
    hits = store.search(query, level=level, scope=scope, k=k, budget_tokens=budget)
    return SearchResult(
        query=query,
        budget_tokens=budget,
        hits=[
            ExperienceHit(
                id=h.item.id,
                namespace=h.item.namespace,
                level=h.item.level,
                scope=h.item.scope,
                title=h.item.title,
                when_to_use=h.item.when_to_use,
                content=h.item.content,
                trust=h.item.trust,
                score=round(h.score, 6),
                vector_score=None if h.vector_score is None else round(h.vector_score, 4),
                bm25_score=None if h.bm25_score is None else round(h.bm25_score, 4),
                utility=round(h.item.utility, 4),
                tokens=h.tokens,
            )
            for h in hits
        ],
    )


def experience_prompt(store: Any, settings: Settings, task: str) -> str:
    """The experience recall would give the planner for ``task``, rendered as in its prompt."""
    items = recall_for_task(store, task, list(PLANNER_TOOLS), budgets=settings.memory)
    text = render_experience(items)
    if not text.strip():
        return f"Task: {task}\n\n(No experience in memory applies to this task yet.)"
    return f"Task: {task}\n\nExperience from earlier tasks:\n{text}"


def _guarded(lock: threading.Lock, fn: Callable[P, R]) -> Callable[P, R]:
    """One store call at a time (the SDK runs sync handlers in worker threads), and the
    store's own errors (unknown id, bad level) reported to the client as tool errors with
    their message, not as a crash of the server."""
    from mcp.server.mcpserver.exceptions import ToolError

    from memory import MemoryStoreError

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with lock:
                return fn(*args, **kwargs)
        except MemoryStoreError as exc:
            raise ToolError(" ".join(str(exc).split()) or type(exc).__name__) from exc

    return wrapper


def build_server(store: Any, settings: Settings, *, read_only: bool = False) -> MCPServer:
    """An MCP server over ``store``; with ``read_only`` the write tools are not offered."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server: MCPServer = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    lock = threading.Lock()
    guarded = functools.partial(_guarded, lock)

    @server.tool(name="search_experience", annotations=reads, description=SEARCH_DOC)
    @guarded
    def search_tool(
        query: Annotated[str, Field(description="What the task is about, in plain words.")],
        level: Annotated[LevelName | None, Field(description="Only this level.")] = None,
        scope: Annotated[str | None, Field(description="Scope prefix, e.g. app/trac.")] = None,
        k: Annotated[int, Field(ge=1, le=50, description="At most this many hits.")] = 5,
        budget_tokens: Annotated[
            int | None, Field(ge=1, description="Token budget (default: the agent's).")
        ] = None,
    ) -> SearchResult:
        return search_experience(
            store, settings, query, level=level, scope=scope, k=k, budget_tokens=budget_tokens
        )

    @server.tool(annotations=reads)
    @guarded
    def get_item(
        item_id: Annotated[str, Field(description="An item id from a search.")],
    ) -> ItemView:
        """One memory item in full: text, status, trust, provenance and usage counts."""
        return item_view(store.get(item_id))

    @server.resource("memory://scopes", name="scope-tree", mime_type="application/json")
    @guarded
    def scope_tree() -> str:
        """The scopes of the memory with counts of active items per level."""
        return json.dumps(store.tree(), indent=1)

    @server.resource("memory://items/{item_id}", name="item", mime_type="text/markdown")
    @guarded
    def item_resource(item_id: str) -> str:
        """One item as text: title, when to use it, content, status and trust."""
        it = store.get(item_id)
        head = f"# {it.title}\n\nlevel: {it.level} · scope: {it.scope} · status: {it.status}"
        head += f" · trust: {it.trust} · version {it.version} · utility {it.utility:.2f}\n"
        when = f"\nWhen to use: {it.when_to_use}\n" if it.when_to_use else ""
        return f"{head}{when}\n{it.content}\n"

    @server.prompt(name="experience_for_task", description=PROMPT_DOC)
    @guarded
    def experience_for_task(task: str) -> str:
        return experience_prompt(store, settings, task)

    if not read_only:
        _register_write_tools(server, store, lock)
    _register_skill_tools(server, store, lock)
    return server


def _register_write_tools(server: MCPServer, store: Any, lock: threading.Lock) -> None:
    from mcp.types import ToolAnnotations

    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
    guarded = functools.partial(_guarded, lock)

    @server.tool(annotations=writes, description=PROPOSE_DOC)
    @guarded
    def propose_experience(
        level: Annotated[LevelName, Field(description="The level of the item.")],
        scope: Annotated[str, Field(description="Where it applies, e.g. app/trac/tickets.")],
        title: Annotated[str, Field(description="A short name of the lesson or procedure.")],
        content: Annotated[str, Field(description="The lesson or the steps.")],
        when_to_use: Annotated[str, Field(description="The situation it is for.")] = "",
    ) -> ProposalResult:
        res = store.propose(
            level=level,
            scope=scope,
            title=title,
            content=content,
            when_to_use=when_to_use,
            source_trust="untrusted",
            actor=ACTOR,
            provenance={"source": "mcp"},
        )
        it = res.item
        return ProposalResult(
            action=res.action,
            item_id=None if it is None else it.id,
            status=None if it is None else it.status,
            trust=None if it is None else it.trust,
            reason=res.reason,
            redactions=res.redactions,
        )

    @server.tool(annotations=writes)
    @guarded
    def record_outcome(
        ids: Annotated[list[str], Field(min_length=1, description="Ids of the items used.")],
        success: Annotated[bool, Field(description="Whether the task succeeded with them.")],
        episode: Annotated[
            str | None, Field(description="A task id: within one, an item counts once.")
        ] = None,
    ) -> OutcomeResult:
        """Credit (success) or debit (failure) the items used for a task; utility follows."""
        for item_id in ids:
            store.get(item_id)  # an unknown id is an error, not a silent no-op
        store.record_outcome(ids, success=success, episode_id=episode)
        return OutcomeResult(ids=list(dict.fromkeys(ids)), success=success)


class SkillView(BaseModel):
    """One skill: what an MCP client needs to show it or to call it through journeyman."""

    id: str
    status: str
    signature: str
    when_to_use: str
    steps: list[str]
    uses: int


def _register_skill_tools(server: MCPServer, store: Any, lock: threading.Lock) -> None:
    """``list_skills``: the skills the learner induced, with signature and steps."""
    from mcp.types import ToolAnnotations

    from agent.skills import parse_skill

    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=reads)
    @functools.partial(_guarded, lock)
    def list_skills(
        include_candidates: Annotated[
            bool, Field(description="Also skills not yet proven by replay or use.")
        ] = False,
    ) -> list[SkillView]:
        """The skills in memory: parameterised tool-call sequences induced from verified
        attempts (active ones are proven by replay), each with its signature and steps."""
        statuses = ("active", "candidate") if include_candidates else ("active",)
        out = []
        for it in store.list_items(level="skill", limit=None):
            skill = parse_skill(it.content)
            if skill is None or it.status not in statuses:
                continue
            steps = skill.render().splitlines()[1 + 1 + len(skill.params) + len(skill.derived) :]
            out.append(
                SkillView(
                    id=it.id,
                    status=it.status,
                    signature=skill.signature(),
                    when_to_use=skill.when_to_use,
                    steps=steps,
                    uses=it.uses,
                )
            )
        return out


async def serve(
    store: Any,
    settings: Settings,
    *,
    read_only: bool = False,
    http_port: int | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Serve until the client leaves (stdio) or the process is stopped (HTTP)."""
    server = build_server(store, settings, read_only=read_only)
    if http_port is None:
        await server.run_stdio_async()
    else:
        await server.run_streamable_http_async(host=host, port=http_port)
