"""Measure a local model on this machine: server start, prompt/generation speed, plan validity.

Run ``python -m agent.local.measure local-small`` (or ``local``). The model must be pulled.
Prompt speed comes from streaming time-to-first-token on a fresh ~600-token prompt (a nonce
defeats the prompt cache); generation speed from the tokens streamed after the first.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.config import Settings, resolve_profile
from agent.local.catalogue import get_model
from agent.local.server import ModelServer, ServerConfig


class Plan(BaseModel):
    """What a planning call must return."""

    subtasks: list[str] = Field(min_length=1, max_length=8)


TASKS = [
    "Count the data rows of sales.csv and write the number to count.txt.",
    "Find the largest file in the workspace and report its name.",
    "Rename every .jpeg file in photos/ to .jpg.",
    "Create a ticket in the tracker titled 'Printer broken' with priority high.",
    "Summarise report.pdf in five bullet points in summary.md.",
    "Sum the 'amount' column of invoices.xlsx and email the total to finance.",
    "Add a calendar event 'Team sync' next Monday at 10:00.",
    "Convert notes.docx to plain text and save it as notes.txt.",
    "List all Python files that import requests.",
    "Post 'build is green' in the #dev chat room.",
    "Download the wiki page 'Onboarding' and save it as onboarding.html.",
    "Find duplicate lines in names.txt and remove them.",
    "Close all tracker tickets labelled 'wontfix'.",
    "Compute the average age from people.csv.",
    "Reply to the latest email from Alice with 'Thanks, received'.",
    "Move every file older than 30 days from inbox/ to archive/.",
    "Write a Python script that prints the first 10 primes and run it.",
    "Upload report.pdf to the shared WebDAV folder /reports.",
    "Extract all email addresses from contacts.txt into emails.csv.",
    "Check which of the URLs in links.txt return HTTP 404.",
]


def _stream(
    client: Any, model: str, messages: list[dict[str, str]], max_tokens: int
) -> dict[str, float]:
    start = time.monotonic()
    first = None
    pieces = 0
    usage = None
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        temperature=0.7,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            pieces += 1
            if first is None:
                first = time.monotonic()
    end = time.monotonic()
    first = first or end
    prompt_tokens = usage.prompt_tokens if usage else 0
    gen_tokens = usage.completion_tokens if usage else pieces
    return {
        "prompt_tokens": prompt_tokens,
        "ttft_s": first - start,
        "gen_tokens": gen_tokens,
        "gen_s": end - first,
    }


def measure(profile_name: str, *, calls: int = 20) -> dict[str, Any]:
    """Start the server for ``profile_name`` and return the figures as a dict."""
    import openai

    settings = Settings()
    _, profile = resolve_profile(settings, profile_name)
    model = get_model(profile.local_model or "")
    server = ModelServer(
        ServerConfig(
            model_path=model.path(settings.local.cache_dir),
            alias=profile.model,
            n_ctx=settings.local.n_ctx,
            threads=settings.local.threads,
            prompt_cache_mb=settings.local.prompt_cache_mb,
        )
    )
    t0 = time.monotonic()
    base_url = server.start()
    start_s = time.monotonic() - t0
    try:
        client = openai.OpenAI(base_url=base_url, api_key="none")
        filler = " ".join(
            f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(50)
        )
        t = time.monotonic()
        reply = client.chat.completions.create(
            model=profile.model,
            messages=[{"role": "user", "content": f"{uuid.uuid4()}\n{filler}\nSay OK."}],
            max_tokens=1,
        )
        prefill_s = time.monotonic() - t
        prompt_tokens = reply.usage.prompt_tokens if reply.usage else 0
        gen = _stream(
            client,
            profile.model,
            [
                {
                    "role": "user",
                    "content": f"{uuid.uuid4()}\nList the numbers from 1 to 200, one per line, nothing else.",
                }
            ],
            max_tokens=160,
        )
        schema = Plan.model_json_schema()
        valid = 0
        plan_s: list[float] = []
        for task in TASKS[:calls]:
            t = time.monotonic()
            reply = client.chat.completions.create(
                model=profile.model,
                messages=[
                    {
                        "role": "system",
                        "content": "Plan the task as a short list of subtasks (JSON).",
                    },
                    {"role": "user", "content": f"Task: {task}"},
                ],
                response_format={"type": "json_object", "schema": schema},  # type: ignore[call-overload]
                temperature=0.7,
                max_tokens=400,
            )
            plan_s.append(time.monotonic() - t)
            try:
                Plan.model_validate_json(reply.choices[0].message.content or "")
                valid += 1
            except ValidationError:
                pass
    finally:
        server.stop()
    return {
        "profile": profile_name,
        "model": model.name,
        "server_start_s": round(start_s, 2),
        "prompt_tokens": prompt_tokens,
        "prompt_tok_per_s": round(prompt_tokens / prefill_s, 1),
        "gen_tok_per_s": round((gen["gen_tokens"] - 1) / gen["gen_s"], 1) if gen["gen_s"] else 0,
        "gen_tokens": gen["gen_tokens"],
        "plans_valid": f"{valid}/{len(plan_s)}",
        "plan_call_s_median": round(sorted(plan_s)[len(plan_s) // 2], 2),
    }


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", nargs="?", default="local-small")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(measure(args.profile, calls=args.calls), indent=2))


if __name__ == "__main__":
    main()
