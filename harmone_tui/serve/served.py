"""One managed system as `harmone serve` holds it, and the error a request can end in."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harmone_common.errors import HarmoneError
from harmone_tui.serve import snapshot
from harmone_tui.serve.harmonica_rules import HarmonicaState
from harmone_tui.serve.systems import RemoteSystem
from mape.policy_file import preset_text

SNAPSHOT_EVERY = 5_000
TACTIC_EVENT = "info"  # a Harmonica tactic decision; the event kinds are the knowledge store's


class RequestProblem(HarmoneError):
    """A request that cannot be served: HTTP status, and one line naming the field."""

    def __init__(self, status: int, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field_name


@dataclass
class Served:
    """One managed system as the server holds it."""

    system_id: str
    kind: str  # "v1" | "harmonica"
    run_id: int
    config: dict[str, Any]
    remote: RemoteSystem | None = None
    harmonica: HarmonicaState | None = None
    seq: int = 0
    snapshot_seq: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("pending", "delivered", "failed"), 0)
    )

    def state_blob(self) -> bytes:
        if self.remote is not None:
            return snapshot.dump(self.remote)
        assert self.harmonica is not None
        return json.dumps(self.harmonica.dump()).encode()

    def snapshot_job(self) -> Callable[[sqlite3.Connection], None]:
        blob, seq, sid = self.state_blob(), self.seq, self.system_id
        self.snapshot_seq = seq

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE serve_systems SET snapshot=?, snapshot_seq=?, config_json=?, updated_at=?"
                " WHERE system_id=?",
                (blob, seq, json.dumps(self.config), time.time(), sid),
            )

        return job


def policy_text_of(config: dict[str, Any]) -> tuple[str, str]:
    """(TOML text, source name) of a v1 registration: its own text or a preset's."""
    if config.get("policy"):
        return config["policy"], "policy"
    name = config.get("preset") or "harmone"
    try:
        return preset_text(name), f"preset {name}"
    except FileNotFoundError:
        raise RequestProblem(422, f"preset: no preset policy {name!r}", "preset") from None
