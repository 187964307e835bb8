"""Archived task runs: the episode record and the short episodic item that indexes it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from memory.errors import ItemNotFound
from memory.records import Episode, new_episode_id
from memory.redact import redact
from memory.validate import new_item
from memory.writes import Writes


class Episodes(Writes):
    """The episode part of the store (see memory/core.py for the layers)."""

    def archive_episode(
        self,
        *,
        task: str,
        outcome: str,
        score: float | None = None,
        usage: dict[str, Any] | None = None,
        trajectory: Sequence[Any] = (),
        items_used: Sequence[str] = (),
        items_written: Sequence[str] = (),
        episode_id: str | None = None,
        scope: str | None = None,
        summary: str | None = None,
        trust: str = "trusted",
    ) -> str:
        """Archive a finished task run and index a short episodic item for it; returns its id.

        ``summary`` (what was tried and what went wrong) becomes the episodic item's text,
        redacted and cut to 1,200 characters; ``trust`` says whether the run read untrusted
        content (web pages, files, command output) that may have shaped it.
        """
        ep_id = episode_id or new_episode_id()
        lines = []
        for step in trajectory:
            data = step.model_dump(mode="json") if hasattr(step, "model_dump") else step
            lines.append(redact(json.dumps(data, default=str, ensure_ascii=False))[0])
        head = f"Outcome: {outcome}" + (f" (score {score:.2f})" if score is not None else "")
        head += f"; {len(lines)} steps; items used: {', '.join(items_used) or 'none'}"
        summary = f"{head}\n{summary.strip()[:1200]}" if summary and summary.strip() else head
        ep = Episode(
            id=ep_id,
            namespace=self.namespace,
            task=redact(task)[0],
            outcome=outcome,
            score=score,
            usage=dict(usage or {}),
            trajectory="\n".join(lines),
            items_used=list(items_used),
            items_written=list(items_written),
        )
        item, _n = new_item(
            {
                "level": "episodic",
                "scope": scope or f"task/{ep_id}",
                "title": task[:200],
                "content": summary,
                "trust": trust,
                "provenance": {"episode": ep_id, "success": outcome == "success"},
            },
            actor="agent",
            namespace=self.namespace,
        )
        vec = self.embed_items([item])
        with self._write() as s:
            s.add(ep)
            seq = self.db.bump_seq(s)
            self._insert(s, [item], vec, actor="agent", reason="episode archived", seq=seq)
        return ep_id

    def get_episode(self, episode_id: str) -> Episode:
        """An archived episode of a readable namespace; raises :class:`ItemNotFound`."""
        with self._read() as s:
            ep = s.exec(select(Episode).where(Episode.id == episode_id)).first()
        if ep is None or not self.view.readable(ep.namespace):
            raise ItemNotFound(f"no episode {episode_id!r}")
        return ep

    def episodes(self, *, limit: int = 50) -> list[Episode]:
        """Most recent episodes of the readable namespaces first."""
        with self._read() as s:
            return list(
                s.exec(
                    select(Episode)
                    .where(col(Episode.namespace).in_(self.view.read))
                    .order_by(col(Episode.created_at).desc())
                    .limit(limit)
                )
            )
