"""Serve's tables in the knowledge store's SQLite file, written by one thread in group commits.

Every request that changes state hands its rows to :class:`Writer` and waits for the commit
before it answers, so an acknowledged record is on disk: the writer's connection runs with
``synchronous=FULL`` (the WAL is fsynced at each commit; measured 0.2 ms a commit here), and all
jobs queued while one transaction runs go into the next one, so many concurrent requests share
one fsync. The event loop never waits on SQLite: reads go through :meth:`ServeStore.read` on a
thread of their own connection.

Each managed system also has a row in ``runs`` (engine ``remote`` or ``harmonica``) and its
decisions are rows of ``events`` under that run id, so `harmone runs list|show` see them.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mape.events import COUNTERS

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_systems (
    system_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    snapshot BLOB,
    snapshot_seq INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS serve_records (
    system_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    policy_id TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (system_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS serve_records_policy ON serve_records (policy_id, ts)
    WHERE policy_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS serve_deliveries (
    id INTEGER PRIMARY KEY,
    system_id TEXT NOT NULL,
    policy_id TEXT,
    seq INTEGER NOT NULL,
    tactic_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    payload TEXT NOT NULL,
    trigger_metric TEXT,
    trigger_value REAL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    coalesced INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    answer TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS serve_deliveries_system ON serve_deliveries (system_id, id);
CREATE INDEX IF NOT EXISTS serve_deliveries_policy ON serve_deliveries (policy_id, id)
    WHERE policy_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS serve_policies (
    policy_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
BUSY_TIMEOUT_MS = 10_000
_STOP = object()


def connect(path: Path, durable: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    return conn


class Writer:
    """One thread, one connection; jobs queued together commit in one transaction."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path, durable=True)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="harmone-serve-writer", daemon=True)
        self._thread.start()
        self.commits = 0

    async def commit(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` in the next transaction and return its result once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, loop, future))
        return await future

    def submit(self, job: Job) -> None:
        """Queue ``job`` without waiting (state updates that no request acknowledges)."""
        self._jobs.put((job, None, None))

    def close(self) -> None:
        """Commit everything queued, then stop the thread and close the connection."""
        self._jobs.put(_STOP)
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while True:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[Any]) -> None:
        results: list[Any] = []
        error: BaseException | None = None
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                results = [job(self._conn) for job, _, _ in batch]
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self.commits += 1
        except Exception as exc:  # noqa: BLE001 - disk full, I/O error, a bad job: every
            # waiting request gets it, and the writer goes on with the next batch
            error = exc
        for index, (_, loop, future) in enumerate(batch):
            if future is None:
                continue
            if error is None:
                loop.call_soon_threadsafe(_settle, future, results[index], None)
            else:
                loop.call_soon_threadsafe(_settle, future, None, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class ServeStore:
    """The serve tables: a :class:`Writer` for changes, a reader connection for queries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        setup = connect(path, durable=True)
        setup.executescript(SCHEMA)
        setup.close()
        self.writer = Writer(path)
        self._reader = connect(path, durable=False)
        self._read_lock = threading.Lock()

    def close(self) -> None:
        self.writer.close()
        self._reader.close()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A read on the calling thread (start-up, tests); :meth:`read` from the event loop."""
        with self._read_lock:
            return self._reader.execute(sql, args).fetchall()

    async def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self.query, sql, args)


# Jobs: functions of a connection, run by the writer inside its transaction -----------------------


def start_run(system_id: str, engine: str, policy: str) -> Job:
    """A ``runs`` row for a new system; the job returns its run id."""

    def job(conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "INSERT INTO runs(started_at, status, pid, policy, engine, data, settings_json)"
            " VALUES (?, 'running', ?, ?, ?, ?, ?)",
            (
                time.time(),
                os.getpid(),
                policy,
                engine,
                f"served system {system_id}",
                json.dumps({"system_id": system_id}),
            ),
        )
        return int(cur.lastrowid or 0)

    return job


def resume_runs(run_ids: list[int]) -> Job:
    """A restarted server's systems are running again, under this process."""

    def job(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "UPDATE runs SET status='running', pid=?, finished_at=NULL WHERE run_id=?",
            [(os.getpid(), r) for r in run_ids],
        )

    return job


def finish_runs(run_ids: list[int], status: str, steps: dict[int, int] | None = None) -> Job:
    """Runs end (``stopped`` at shutdown, ``reset``) with a summary `harmone runs` shows:
    records so far and adaptations counted from the run's events (never kept apart)."""

    def job(conn: sqlite3.Connection) -> None:
        now = time.time()
        for run_id in run_ids:
            counts = dict(
                conn.execute(
                    "SELECT kind, COUNT(*) FROM events WHERE run_id=? GROUP BY kind", (run_id,)
                )
            )
            summary: dict[str, Any] = {
                "run_id": run_id,
                "status": status,
                "steps": (steps or {}).get(run_id),
                "energy_source": "reported",
            }
            summary.update({name: counts.get(kind, 0) for kind, name in COUNTERS.items()})
            conn.execute(
                "UPDATE runs SET status=?, finished_at=?, summary_json=? WHERE run_id=?",
                (status, now, json.dumps(summary), run_id),
            )

    return job


def prune_job(
    sid: str, run_id: int, snapshot_seq: int, keep: int
) -> Callable[[sqlite3.Connection], None]:
    """Keep the newest ``keep`` records, deliveries and events of a system (never a record the
    snapshot does not cover, never a pending delivery)."""

    def job(conn: sqlite3.Connection) -> None:
        top = conn.execute(
            "SELECT MAX(seq) FROM serve_records WHERE system_id=?", (sid,)
        ).fetchone()[0]
        if top is not None:
            floor = min(snapshot_seq, top + 1 - keep)
            conn.execute("DELETE FROM serve_records WHERE system_id=? AND seq<?", (sid, floor))
        conn.execute(
            "DELETE FROM serve_deliveries WHERE system_id=? AND state!='pending' AND id<=("
            "SELECT id FROM serve_deliveries WHERE system_id=? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (sid, sid, keep),
        )
        conn.execute(
            "DELETE FROM events WHERE run_id=? AND id<=("
            "SELECT id FROM events WHERE run_id=? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (run_id, run_id, keep),
        )

    return job
