"""The OpenAI-compatible client: any base URL (OpenAI, Gemini, vLLM, llama.cpp, Ollama).

The ``openai`` package does the HTTP with its own retries off (``max_retries=0``); this
module retries transient faults through :mod:`agent.llm.retrying`, maps the others to
typed errors with one-line messages, and shares reply interpretation (structured
output, JSON actions, re-asks) with the scripted models through :mod:`agent.llm.replies`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.config import ModelProfile, RetrySettings
from agent.errors import (
    AuthenticationFailed,
    BadRequest,
    ContextOverflow,
    ModelError,
    ModelNotFound,
    ProviderUnavailable,
)
from agent.llm.base import Completion, FinishReason, Message, ToolSpec
from agent.llm.replies import RawReply, RawToolCall, Request, complete_with_reasks
from agent.llm.retrying import Fault, RetriesExhausted, RetryStats, call_with_retries
from agent.llm.text_protocol import (
    action_schema,
    response_format,
    schema_prompt,
    to_text_protocol,
    with_system_note,
)
from agent.llm.usage import usage_from_openai

if TYPE_CHECKING:
    from openai import AsyncOpenAI

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
_TRANSIENT_STATUS = {408, 409, 429}
_NO_KEY = "no-key-configured"


# how OpenAI, vLLM and llama.cpp word a prompt that is too long for the model
_CONTEXT_OVERFLOW = re.compile(
    r"(?i)maximum context length|context (length|window) (is )?exceeded|exceeds? the "
    r"(available )?context|too many tokens|reduce the length of the (messages|prompt)"
)


class MalformedResponse(Exception):
    """A 2xx response whose body is not a chat completion (not JSON, no choices)."""


class OpenAIClient:
    """An :class:`~agent.llm.base.LLM` over the OpenAI chat completions API.

    ``stats`` counts requests, retries, waits and re-asks over the client's lifetime.
    """

    def __init__(
        self,
        profile: ModelProfile,
        *,
        retry: RetrySettings,
        base_url: str | None = None,
        api_key: str | None = None,
        profile_name: str | None = None,
    ) -> None:
        self.profile = profile
        self.retry = retry
        self.base_url = base_url or profile.base_url
        self.profile_name = profile_name or profile.model
        self._api_key = api_key if api_key is not None else profile.api_key()
        self.stats = RetryStats()
        self._client: AsyncOpenAI | None = None
        # some OpenAI-compatible servers reject tool_choice="required": asked once, then not
        self._tool_choice_refused = False
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @property
    def name(self) -> str:
        return f"{self.profile_name}:{self.profile.model}"

    @property
    def url(self) -> str:
        """The base URL requests go to, for messages."""
        return self.base_url or OPENAI_DEFAULT_URL

    # --- the protocol --------------------------------------------------------------

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        output: type[BaseModel] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        require_tool: bool = False,
    ) -> Completion[Any]:
        """One completion; transient faults retried, unusable replies re-asked."""
        request = Request(
            tools=tools or None,
            output=output,
            text_protocol=bool(tools) and not self.profile.native_tools,
            require_tool=require_tool and bool(tools),
        )

        async def send(conversation: list[Message]) -> RawReply:
            kwargs = self._request_kwargs(conversation, request, temperature, max_tokens)
            try:
                return await self._send(kwargs)
            except BadRequest as exc:
                if "tool_choice" not in kwargs or "tool_choice" not in str(exc):
                    raise
                self._tool_choice_refused = True  # best effort: the executor nudges instead
                kwargs.pop("tool_choice")
                return await self._send(kwargs)

        def count(_: object) -> None:
            self.stats.reasks += 1

        return await complete_with_reasks(
            send, messages, request, reasks=self.retry.structured_reasks, on_reask=count
        )

    async def ping(self) -> list[str]:
        """List the provider's models (one cheap request, retried like any other)."""
        client = self._openai()

        async def call() -> list[str]:
            page = await client.models.list()
            return [m.id for m in page.data]

        return await self._with_retries(call)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    # --- requests ------------------------------------------------------------------

    def _request_kwargs(
        self,
        messages: list[Message],
        request: Request,
        temperature: float | None,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.profile.model}
        tools, output = request.tools, request.output
        if request.text_protocol and tools:
            messages = to_text_protocol(
                messages, tools, output=output, compact=self.profile.compact_tools
            )
            schema = (
                action_schema(tools, output=output, final=not request.require_tool)
                if self.profile.json_schema
                else None
            )
            if schema is not None:
                kwargs["response_format"] = response_format(
                    schema, name="action", mode=self.profile.schema_mode
                )
        else:
            if tools:
                kwargs["tools"] = [
                    {
                        "type": "function",
                        "function": {
                            "name": t.name,
                            "description": t.description,
                            "parameters": t.parameters,
                        },
                    }
                    for t in tools
                ]
                if request.require_tool and not self._tool_choice_refused:
                    kwargs["tool_choice"] = "required"
            if output is not None:
                if self.profile.json_schema:
                    kwargs["response_format"] = response_format(
                        output.model_json_schema(),
                        name=output.__name__,
                        mode=self.profile.schema_mode,
                    )
                else:
                    messages = with_system_note(messages, schema_prompt(output))
        kwargs["messages"] = [_to_openai(m) for m in messages]
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        return kwargs

    async def _send(self, kwargs: dict[str, Any]) -> RawReply:
        client = self._openai()

        async def call() -> Any:
            try:
                resp = await client.chat.completions.create(**kwargs)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise MalformedResponse(f"response body is not JSON ({exc})") from exc
            if isinstance(resp, str) or not getattr(resp, "choices", None):
                raise MalformedResponse("response is not a chat completion")
            return resp

        resp = await self._with_retries(call)
        return self._raw_reply(resp)

    async def _with_retries(self, call: Any) -> Any:
        try:
            return await call_with_retries(
                call, settings=self.retry, classify=classify, stats=self.stats
            )
        except RetriesExhausted as exc:
            raise ProviderUnavailable(
                f"{self.url} still failing after {exc.attempts} attempt(s) and "
                f"{exc.waited_s:.1f}s of backoff (last: {exc.fault.kind}: "
                f"{_one_line(str(exc.cause))}); check that the server is up and reachable"
            ) from exc.cause
        except Exception as exc:
            mapped = self._typed_error(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _raw_reply(self, resp: Any) -> RawReply:
        choice = resp.choices[0]
        message = choice.message
        calls = [
            RawToolCall(name=c.function.name, arguments=c.function.arguments, id=c.id)
            for c in (message.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        text = message.content or getattr(message, "refusal", None) or ""
        return RawReply(
            text=text,
            tool_calls=calls,
            usage=usage_from_openai(resp.usage, self.profile),
            finish_reason=_finish(choice.finish_reason),
            model=resp.model or self.profile.model,
        )

    def _openai(self) -> AsyncOpenAI:
        """The SDK client, one per event loop (its connection pool is bound to a loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            from openai import AsyncOpenAI, DefaultAsyncHttpxClient

            # our own HTTP client: the SDK's default one schedules its close on whatever
            # loop runs when it is garbage-collected, which fails noisily for a closed loop
            self._client = AsyncOpenAI(
                api_key=self._api_key or _NO_KEY,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.retry.timeout_s,
                http_client=DefaultAsyncHttpxClient(timeout=self.retry.timeout_s),
            )
            self._client_loop = loop
        return self._client

    # --- errors --------------------------------------------------------------------

    def _typed_error(self, exc: BaseException) -> ModelError | None:
        import openai

        if not isinstance(exc, openai.APIStatusError):
            return None
        status = exc.status_code
        detail = _provider_message(exc)
        where = f"profile {self.profile_name!r} ({self.url})"
        if status == 401:
            env = self.profile.api_key_env
            fix = (
                f"set a valid key in the environment variable {env}"
                if env
                else "the server wants a key: set api_key_env in the profile and export the key"
            )
            state = "" if not env or self._api_key else f" ({env} is not set)"
            return AuthenticationFailed(f"authentication failed (401) for {where}{state}: {fix}")
        if status == 403:
            env = self.profile.api_key_env or "the profile's key"
            return AuthenticationFailed(
                f"permission denied (403) for model {self.profile.model!r} at {self.url}: "
                f"the key in {env} has no access ({detail})"
            )
        if status == 404:
            return ModelNotFound(
                f"not found (404) at {self.url}: check model {self.profile.model!r} and base_url "
                f"of {where} ({detail})"
            )
        if status == 400 and _CONTEXT_OVERFLOW.search(detail):
            return ContextOverflow(
                f"the prompt does not fit the context window of {where} ({detail}); "
                "shorten the input or raise the profile's context_window and the server's n_ctx"
            )
        return BadRequest(f"the provider rejected the request ({status}) for {where}: {detail}")


def classify(exc: BaseException) -> Fault | None:
    """The transient fault an exception stands for, or None when retrying will not help."""
    import openai

    if isinstance(exc, MalformedResponse | openai.APIResponseValidationError):
        return Fault("malformed")
    if isinstance(exc, openai.APITimeoutError):
        return Fault("timeout")
    if isinstance(exc, openai.APIConnectionError):
        return Fault("connection")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in _TRANSIENT_STATUS or status >= 500:
            kind = "rate_limit" if status == 429 else f"http_{status}"
            return Fault(kind, retry_after(exc.response.headers))
    return None


def retry_after(headers: Any) -> float | None:
    """Seconds a server asked us to wait (``retry-after-ms``, ``retry-after``), or None."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _to_openai(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": msg.role, "content": msg.content}
    if msg.role == "assistant" and msg.tool_calls:
        out["content"] = msg.content or None
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in msg.tool_calls
        ]
    if msg.role == "tool":
        out["tool_call_id"] = msg.tool_call_id
    if msg.name and msg.role in ("user", "assistant", "system"):
        out["name"] = msg.name
    return out


def _finish(reason: str | None) -> FinishReason:
    if reason in ("stop", "length", "tool_calls", "content_filter"):
        return reason  # type: ignore[return-value]
    if reason == "function_call":
        return "tool_calls"
    return "unknown"


def _provider_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    message: Any = None
    if isinstance(body, dict):
        err = body.get("error", body)
        message = err.get("message") if isinstance(err, dict) else err
    return _one_line(str(message or getattr(exc, "message", "") or exc))


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
