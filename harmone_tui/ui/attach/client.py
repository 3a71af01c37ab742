"""What the systems screen reads from a `harmone serve`, in one poll (no Textual here)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Snapshot:
    """One poll: every system, and the selected one's series, events and deliveries."""

    systems: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


class ServeClient:
    """A thin async client of the /v1 API; errors become one line, never an exception."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=5)

    async def close(self) -> None:
        await self._http.aclose()

    async def poll(self, selected: str | None, after: int = 0) -> Snapshot:
        """Every system; for ``selected`` (else the first) its events with an id > ``after``."""
        try:
            systems = (await self._get("/v1/systems")) or []
            out = Snapshot(systems=systems)
            ids = [s["system_id"] for s in systems]
            sid = selected if selected in ids else (ids[0] if ids else None)
            if sid is not None:
                series, evs, deliveries = await asyncio.gather(
                    self._get(f"/v1/systems/{sid}/series"),
                    self._get(f"/v1/systems/{sid}/events", params={"after": after}),
                    self._get(f"/v1/systems/{sid}/deliveries", params={"limit": 50}),
                )
                out.series, out.events, out.deliveries = series, evs, deliveries
            return out
        except (httpx.HTTPError, ValueError) as exc:
            return Snapshot(error=f"{self.url}: {exc}")

    async def policy(self, sid: str) -> str:
        return (await self._get(f"/v1/systems/{sid}/policy"))["toml"]

    async def put_policy(self, sid: str, text: str) -> str | None:
        """Apply ``text``; None when applied, else the server's one-line error."""
        try:
            answer = await self._http.put(f"/v1/systems/{sid}/policy", json={"toml": text})
        except httpx.HTTPError as exc:
            return f"{self.url}: {exc}"
        if answer.status_code >= 400:
            return str(answer.json().get("error", answer.text))
        return None

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        answer = await self._http.get(path, params=params)
        if answer.status_code >= 400:
            raise ValueError(f"{path}: {answer.status_code} {answer.text[:200]}")
        return answer.json()
