"""The ``model_versions`` table of the knowledge store: one row per stored model version.

A mixin of :class:`mape.knowledge.KnowledgeStore`, kept apart so that each module holds one
table's reading and writing; it uses the store's connection and its retrying writer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VersionRow:
    """A stored model version; ``path`` is relative to the data directory."""

    engine: str
    model: str
    version: int
    path: str
    created_at: float
    run_id: int | None
    reason: str
    meta: dict[str, Any]


class VersionTable:
    """Model versions: add, list, remove, and the highest number so far."""

    _conn: sqlite3.Connection
    _write: Callable[..., sqlite3.Cursor]  # the store's retrying writer (sql, args)

    def add_version(self, row: VersionRow) -> None:
        self._write(
            "INSERT INTO model_versions VALUES (?,?,?,?,?,?,?,?)",
            (
                row.engine,
                row.model,
                row.version,
                row.path,
                row.created_at,
                row.run_id,
                row.reason,
                json.dumps(row.meta, default=str),
            ),
        )

    def versions(self, engine: str | None = None, model: str | None = None) -> list[VersionRow]:
        sql = (
            "SELECT engine, model, version, path, created_at, run_id, reason, meta_json"
            " FROM model_versions"
        )
        clauses, args = [], []
        if engine is not None:
            clauses.append("engine=?")
            args.append(engine)
        if model is not None:
            clauses.append("model=?")
            args.append(model)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY engine, model, version"
        rows = self._conn.execute(sql, args).fetchall()
        return [
            VersionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7])) for r in rows
        ]

    def remove_version(self, engine: str, model: str, version: int) -> None:
        self._conn.execute(
            "DELETE FROM model_versions WHERE engine=? AND model=? AND version=?",
            (engine, model, version),
        )

    def max_version(self, engine: str, model: str) -> int:
        row = self._conn.execute(
            "SELECT MAX(version) FROM model_versions WHERE engine=? AND model=?", (engine, model)
        ).fetchone()
        return int(row[0] or 0)
