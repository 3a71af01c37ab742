"""Posting tactics to adaptors: one bounded queue and one worker per system, retries with backoff.

Harmonica posted a tactic once, inline, with a 5 s timeout: a dead adaptor held up the request
that triggered it and the tactic was lost. Here a delivery is stored as ``pending`` together
with the record that triggered it, and only then queued; its system's worker posts it with a
per-attempt timeout and retries connection errors, timeouts, 429 and 5xx answers with doubling
backoff. It ends ``delivered`` (2xx) or ``failed`` (another answer, or every attempt used), with
the endpoint's answer kept. A slow endpoint holds up only its own system's queue. Deliveries
still pending at shutdown are sent again at the next start (so an adaptor may see one twice:
the payload's ``delivery_id`` tells).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harmone_tui.serve.config import DeliverySettings
from harmone_tui.serve.store import Writer

ANSWER_CHARS = 500
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class Delivery:
    """A tactic on its way to an adaptor (a row of ``serve_deliveries``)."""

    id: int
    system_id: str
    policy_id: str | None
    seq: int
    tactic_id: str
    endpoint: str
    payload: dict[str, Any]
    trigger_metric: str | None = None
    trigger_value: float | None = None
    state: str = "pending"
    attempts: int = 0
    coalesced: int = 0
    http_status: int | None = None
    answer: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0

    def insert(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO serve_deliveries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                self.id,
                self.system_id,
                self.policy_id,
                self.seq,
                self.tactic_id,
                self.endpoint,
                json.dumps(self.payload),
                self.trigger_metric,
                self.trigger_value,
                self.state,
                self.attempts,
                self.coalesced,
                self.http_status,
                self.answer,
                self.created_at,
                self.updated_at or self.created_at,
            ),
        )

    def update_job(self) -> Callable[[sqlite3.Connection], None]:
        values = (
            self.state,
            self.attempts,
            self.coalesced,
            self.http_status,
            self.answer,
            self.updated_at,
            self.id,
        )

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE serve_deliveries SET state=?, attempts=?, coalesced=?, http_status=?,"
                " answer=?, updated_at=? WHERE id=?",
                values,
            )

        return job


class Deliveries:
    """The per-system queues and workers; ``on_final`` hears of every delivery that ends."""

    def __init__(
        self, writer: Writer, settings: DeliverySettings, on_final: Callable[[Delivery], None]
    ) -> None:
        self._writer = writer
        self.settings = settings
        self._on_final = on_final
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._open: dict[tuple[str, str], Delivery] = {}
        self._client = httpx.AsyncClient(timeout=settings.timeout_s, trust_env=False)

    def open_delivery(self, system_id: str, tactic_id: str) -> Delivery | None:
        """The queued or in-flight delivery of this tactic to this system, if any: a new
        trigger while one is on its way is counted on it (``coalesced``), not queued again."""
        return self._open.get((system_id, tactic_id))

    def hold(self, delivery: Delivery) -> None:
        """Mark ``delivery`` open before its row commits (so a concurrent trigger sees it)."""
        self._open[(delivery.system_id, delivery.tactic_id)] = delivery

    def release(self, delivery: Delivery) -> None:
        key = (delivery.system_id, delivery.tactic_id)
        if self._open.get(key) is delivery:
            del self._open[key]

    def submit(self, delivery: Delivery) -> None:
        """Queue a stored delivery on its system's worker (started on first use)."""
        self.hold(delivery)
        system = delivery.system_id
        q = self._queues.get(system)
        if q is None:
            q = self._queues[system] = asyncio.Queue(self.settings.queue_size)
            self._workers[system] = asyncio.create_task(self._work(q), name=f"deliver-{system}")
        try:
            q.put_nowait(delivery)
        except asyncio.QueueFull:
            self._finish(delivery, "failed", None, f"delivery queue full ({q.maxsize} waiting)")

    def queued(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    async def close(self) -> None:
        """Stop the workers; what is still pending stays pending in the store."""
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        await self._client.aclose()

    async def _work(self, q: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await q.get()
            await self._deliver(delivery)

    async def _deliver(self, d: Delivery) -> None:
        s = self.settings
        while True:
            d.attempts += 1
            status, answer, retry = await self._post(d)
            if not retry:
                self._finish(
                    d, "delivered" if status and 200 <= status < 300 else "failed", status, answer
                )
                return
            if d.attempts >= s.attempts:
                self._finish(d, "failed", status, answer)
                return
            d.http_status, d.answer, d.updated_at = status, answer, time.time()
            self._writer.submit(d.update_job())
            await asyncio.sleep(s.delay(d.attempts))

    async def _post(self, d: Delivery) -> tuple[int | None, str, bool]:
        """(HTTP status or None, the answer or error, whether to try again)."""
        try:
            response = await self._client.post(d.endpoint, json=d.payload)
        except httpx.TimeoutException:
            return None, f"no answer within {self.settings.timeout_s:g} s", True
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS], True
        text = response.text[:ANSWER_CHARS]
        return response.status_code, text, response.status_code in RETRY_STATUS

    def _finish(self, d: Delivery, state: str, status: int | None, answer: str | None) -> None:
        d.state, d.http_status, d.answer, d.updated_at = state, status, answer, time.time()
        self.release(d)
        self._writer.submit(d.update_job())
        self._on_final(d)
