"""The knowledge store: one SQLite file (WAL) holding runs, steps, events and model versions.

This connection is the event-loop thread's: runs, events, policies and model versions. During a
run, step rows are written by :mod:`mape.step_writer`, on a thread and connection of its own, in
batches (``add_steps`` here is for tools and tests); WAL mode lets both write, each batch is one
transaction, so a crash loses at most the batches not yet committed and never corrupts the file.
Writes go through :mod:`mape.store_write` (a busy store is retried; a failed write is a one-line
KnowledgeError).

A run ends ``finished``, ``stopped`` or ``failed``; a run whose process is gone (its pid is not
alive, or was reused by a process started at another time) is shown and stored as
``interrupted``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mape import store_write
from mape.events import Event, EventKind
from mape.store_write import KnowledgeError

SCHEMA_VERSION = 1
RUN_STATUSES = ("running", "finished", "stopped", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    pid INTEGER,
    pid_started REAL,
    policy TEXT NOT NULL,
    engine TEXT NOT NULL,
    data TEXT NOT NULL,
    settings_json TEXT NOT NULL DEFAULT '{}',
    summary_json TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    truth REAL,
    prediction REAL NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    cpu_ms REAL NOT NULL,
    energy_mj REAL NOT NULL,
    energy_source TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, step);
CREATE TABLE IF NOT EXISTS model_versions (
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    path TEXT NOT NULL,
    created_at REAL NOT NULL,
    run_id INTEGER,
    reason TEXT NOT NULL,
    meta_json TEXT NOT NULL,
    PRIMARY KEY (engine, model, version)
);
CREATE TABLE IF NOT EXISTS policies_applied (
    run_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    ts REAL NOT NULL,
    policy_name TEXT NOT NULL,
    policy_toml TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StepRow:
    """One inference, as stored."""

    step: int
    truth: float | None
    prediction: float
    model: str
    version: int
    latency_ms: float
    cpu_ms: float
    energy_mj: float
    energy_source: str


@dataclass(frozen=True)
class RunRow:
    """A run's header and, once finished, its summary."""

    run_id: int
    started_at: float
    finished_at: float | None
    status: str
    policy: str
    engine: str
    data: str
    summary: dict[str, Any] | None


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


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), None if there is none or it is unknown."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:  # access denied: it exists, its start time is unknown
        return 0.0


def _run_alive(pid: int | None, started: float | None) -> bool:
    """True while the process that started a run still exists (not a later one with its pid)."""
    if not pid:
        return False
    now_started = process_started(pid)
    if now_started is None:
        return False
    return started is None or now_started == 0.0 or abs(now_started - started) < 1.0


class KnowledgeStore:
    """SQLite-backed knowledge: open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> KnowledgeStore:
        """Open (or create) the store; refuse a corrupted file rather than overwrite it."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KnowledgeError(
                f"{path.parent}: cannot create the data directory ({exc.strerror})"
            ) from exc
        if not os.access(path.parent, os.W_OK):
            raise KnowledgeError(
                f"{path.parent}: the data directory is not writable; choose another with --data-dir"
            )
        existed = path.exists() and path.stat().st_size > 0
        if existed and not os.access(path, os.W_OK):
            raise KnowledgeError(
                f"{path}: the knowledge store is read-only; make it writable"
                " or pass --data-dir to use another directory"
            )
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if existed:
                ok = conn.execute("PRAGMA quick_check").fetchone()
                if ok is None or ok[0] != "ok":
                    raise sqlite3.DatabaseError(
                        str(ok[0]) if ok else "quick_check returned nothing"
                    )
            conn.execute(f"PRAGMA busy_timeout={store_write.ATTEMPT_TIMEOUT_MS}")
            store_write.write(path, lambda: _create_schema(conn))
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_READONLY", "SQLITE_PERM")):
                raise KnowledgeError(
                    f"{path}: the knowledge store is read-only ({exc}); make it writable"
                    " or pass --data-dir to use another directory"
                ) from exc
            raise KnowledgeError(
                f"{path}: the knowledge store is corrupted ({exc}). Nothing was changed. "
                f"Move it aside (mv '{path}' '{path}.broken') to start a new one, "
                "or pass --data-dir to use another directory."
            ) from exc
        store = cls(conn, path)
        store._close_abandoned_runs()
        return store

    def close(self) -> None:
        self._conn.close()

    def _write(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return store_write.write(self.path, lambda: self._conn.execute(sql, args))

    def _abandoned_runs(self) -> set[int]:
        """Runs left 'running' by a process that no longer exists."""
        rows = self._conn.execute(
            "SELECT run_id, pid, pid_started FROM runs WHERE status='running'"
        ).fetchall()
        return {run_id for run_id, pid, started in rows if not _run_alive(pid, started)}

    def _close_abandoned_runs(self) -> set[int]:
        """Mark abandoned runs 'interrupted'; returns them (also when the store cannot be
        written now, so that a listing still shows them as they are)."""
        gone = self._abandoned_runs()
        for run_id in gone:
            try:
                self._write("UPDATE runs SET status='interrupted' WHERE run_id=?", (run_id,))
            except KnowledgeError:
                break
        return gone

    # runs -----------------------------------------------------------------------------------
    def start_run(self, policy: str, engine: str, data: str, settings: dict[str, Any]) -> int:
        pid = os.getpid()
        cur = self._write(
            "INSERT INTO runs(started_at, status, pid, pid_started, policy, engine, data,"
            " settings_json) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
            (time.time(), pid, process_started(pid), policy, engine, data, json.dumps(settings)),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        self._write(
            "UPDATE runs SET finished_at=?, status=?, summary_json=? WHERE run_id=?",
            (time.time(), status, json.dumps(summary), run_id),
        )

    def runs(self, limit: int = 200) -> list[RunRow]:
        """Runs, newest first; one whose process is gone is never shown as running."""
        gone = self._close_abandoned_runs()
        rows = self._conn.execute(
            "SELECT run_id, started_at, finished_at, status, policy, engine, data, summary_json"
            " FROM runs ORDER BY run_id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            RunRow(
                r[0],
                r[1],
                r[2],
                "interrupted" if r[0] in gone else r[3],
                r[4],
                r[5],
                r[6],
                json.loads(r[7]) if r[7] else None,
            )
            for r in rows
        ]

    def run(self, run_id: int) -> RunRow | None:
        return next((r for r in self.runs(limit=1_000_000) if r.run_id == run_id), None)

    def run_settings(self, run_id: int) -> dict[str, Any] | None:
        """The settings a run was started with (``RunSettings.describe``), None if no such run."""
        sql = "SELECT settings_json FROM runs WHERE run_id=?"
        row = self._conn.execute(sql, (run_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    # steps ----------------------------------------------------------------------------------
    def add_steps(self, run_id: int, rows: Sequence[StepRow]) -> None:
        """Write one batch of steps in a single transaction."""
        self.add_step_tuples(
            (
                run_id,
                r.step,
                r.truth,
                r.prediction,
                r.model,
                r.version,
                r.latency_ms,
                r.cpu_ms,
                r.energy_mj,
                r.energy_source,
            )
            for r in rows
        )

    def add_step_tuples(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Write rows of the ``steps`` table (run_id first) in one transaction; the hot path."""
        batch = list(rows)  # a retried transaction inserts the same rows again
        store_write.write(
            self.path,
            lambda: store_write.in_transaction(
                self._conn,
                lambda: self._conn.executemany(
                    "INSERT INTO steps VALUES (?,?,?,?,?,?,?,?,?,?)", batch
                ),
            ),
        )

    def steps(self, run_id: int, start: int = 0, stop: int | None = None) -> list[StepRow]:
        hi = stop if stop is not None else 2**62
        rows = self._conn.execute(
            "SELECT step, truth, prediction, model, version, latency_ms, cpu_ms, energy_mj,"
            " energy_source FROM steps WHERE run_id=? AND step>=? AND step<? ORDER BY step",
            (run_id, start, hi),
        ).fetchall()
        return [StepRow(*r) for r in rows]

    def step_count(self, run_id: int) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM steps WHERE run_id=?", (run_id,)).fetchone()
        return int(row[0])

    # events ---------------------------------------------------------------------------------
    def add_event(self, run_id: int, step: int, kind: str, detail: dict[str, Any]) -> Event:
        if kind not in EventKind.__members__.values():
            raise ValueError(f"unknown event kind {kind!r}")
        kind = EventKind(kind)
        ts = time.time()
        self._write(
            "INSERT INTO events(run_id, step, ts, kind, detail_json) VALUES (?,?,?,?,?)",
            (run_id, step, ts, kind, json.dumps(detail, default=str)),
        )
        return Event(run_id, step, ts, kind, detail)

    def events(self, run_id: int, kinds: Iterable[str] | None = None) -> list[Event]:
        rows = self._conn.execute(
            "SELECT run_id, step, ts, kind, detail_json FROM events WHERE run_id=? ORDER BY id",
            (run_id,),
        ).fetchall()
        wanted = set(kinds) if kinds is not None else None
        return [
            Event(r[0], r[1], r[2], EventKind(r[3]), json.loads(r[4]))
            for r in rows
            if wanted is None or r[3] in wanted
        ]

    def event_counts(self, run_id: int) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT kind, COUNT(*) FROM events WHERE run_id=? GROUP BY kind", (run_id,)
        ).fetchall()
        return {k: int(n) for k, n in rows}

    def record_policy(self, run_id: int, step: int, name: str, toml_text: str) -> None:
        self._write(
            "INSERT INTO policies_applied VALUES (?,?,?,?,?)",
            (run_id, step, time.time(), name, toml_text),
        )

    # model versions -------------------------------------------------------------------------
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

    @contextlib.contextmanager
    def write_lock(self, durable: bool = False) -> Iterator[None]:
        """A write transaction taken at once (BEGIN IMMEDIATE): other processes sharing the
        store wait (busy_timeout) until it ends, so what is read inside it (the next version
        number) stays true until it commits.

        ``durable``: the commit is fsynced (synchronous=FULL for this one transaction; steps
        keep NORMAL, where a power cut may lose the last transactions but never corrupts).
        """
        if durable:
            self._conn.execute("PRAGMA synchronous=FULL")
        try:  # each attempt waits only briefly in SQLite: retry a busy store as every write does
            store_write.write(self.path, lambda: self._conn.execute("BEGIN IMMEDIATE"))
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        finally:
            if durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")

    def max_version(self, engine: str, model: str) -> int:
        row = self._conn.execute(
            "SELECT MAX(version) FROM model_versions WHERE engine=? AND model=?", (engine, model)
        ).fetchone()
        return int(row[0] or 0)


def _create_schema(conn: sqlite3.Connection) -> None:
    """Create what is missing; add columns later versions introduced to an older store."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "pid_started" not in columns:
        conn.execute("ALTER TABLE runs ADD COLUMN pid_started REAL")
    conn.execute(
        "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
