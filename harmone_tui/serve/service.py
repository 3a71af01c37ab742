"""The managing system: served systems, their state, and what a request may change.

Each intake is: validate, process synchronously on the event loop (no ``await`` between reading
and changing a system's state, so concurrent requests see a consistent order), hand one job
with the records, the decisions (``events``) and the new deliveries to the writer, wait for its
commit, answer, and only then queue the deliveries: no tactic is sent for a record that is not
stored. If a commit fails, the system is rebuilt from the store, so memory never runs ahead of
what was acknowledged.

A restart rebuilds each system from its snapshot (taken every :data:`SNAPSHOT_EVERY` records, on
a policy change and at shutdown) plus the records stored after it, replayed with tactics muted
(their decisions were stored with them), then sends the deliveries still pending.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pickle
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from harmone_tui import paths
from harmone_tui.serve import snapshot
from harmone_tui.serve.config import ServeConfig, ServeError
from harmone_tui.serve.deliveries import Deliveries, Delivery
from harmone_tui.serve.harmonica_rules import HarmonicaPolicy, HarmonicaState
from harmone_tui.serve.schema import to_policy
from harmone_tui.serve.served import RequestProblem, Served, policy_text_of
from harmone_tui.serve.store import ServeStore, finish_runs, prune_job, resume_runs, start_run
from harmone_tui.serve.systems import RemoteSystem, StepRecord
from mape.knowledge import KnowledgeStore
from mape.policy_file import parse_policy

HOUSEKEEPING_S = 10.0
REPLAY_CHUNK = 10_000


class Service:
    """Everything `harmone serve` holds; the API modules call its methods."""

    def __init__(self, config: ServeConfig, log: Callable[[str], None]) -> None:
        self.config = config
        self.log = log
        self.systems: dict[str, Served] = {}
        self.policies: dict[str, HarmonicaPolicy] = {}
        self.started_at = time.time()
        self._creating: dict[str, asyncio.Future[Served]] = {}
        self._next_delivery = 1
        self._lock_fd: int | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self.store: ServeStore
        self.deliveries: Deliveries

    # life cycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        root = self.config.data_dir
        path = paths.knowledge_file(root)
        KnowledgeStore.open(path).close()  # the knowledge schema (runs, events) and its checks
        self._lock(root)
        self.store = ServeStore(path)
        self.deliveries = Deliveries(self.store.writer, self.config.delivery, self._delivered)
        for pid, body in self.store.query("SELECT policy_id, body FROM serve_policies"):
            self.policies[pid] = to_policy(json.loads(body))
        top = self.store.query("SELECT MAX(id) FROM serve_deliveries")[0][0]
        self._next_delivery = int(top or 0) + 1
        rows = self.store.query(
            "SELECT system_id, kind, run_id, config_json, snapshot, snapshot_seq FROM serve_systems"
        )
        for row in rows:
            served = await asyncio.to_thread(self._restore, *row)
            self.systems[served.system_id] = served
        for sid, state, n in self.store.query(
            "SELECT system_id, state, COUNT(*) FROM serve_deliveries GROUP BY system_id, state"
        ):
            if sid in self.systems:
                self.systems[sid].counts[state] = n
        await self.store.writer.commit(resume_runs([s.run_id for s in self.systems.values()]))
        self._requeue()
        self._housekeeping = asyncio.create_task(self._housekeep(), name="serve-housekeeping")

    def _lock(self, root: Any) -> None:
        path = root / "serve.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = path.read_text(encoding="utf-8").strip() or "another process"
            raise ServeError(
                f"{root}: `harmone serve` is already running on this data directory ({holder});"
                " stop it or pass --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        self._lock_fd = fd

    async def stop(self) -> None:
        """Stop sending, snapshot every system, mark their runs stopped, close the store."""
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        await self.deliveries.close()
        jobs = [s.snapshot_job() for s in self.systems.values()]
        served = list(self.systems.values())
        jobs.append(
            finish_runs([s.run_id for s in served], "stopped", {s.run_id: s.seq for s in served})
        )
        await self.store.writer.commit(lambda conn: [job(conn) for job in jobs])
        self.store.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _restore(
        self,
        sid: str,
        kind: str,
        run_id: int,
        config_json: str,
        blob: bytes | None,
        snapshot_seq: int,
    ) -> Served:
        config = json.loads(config_json)
        served = Served(sid, kind, run_id, config)
        if kind == "v1":
            state = None
            if blob:
                try:
                    state = snapshot.load(blob)
                except (pickle.UnpicklingError, AttributeError, ImportError, EOFError) as exc:
                    self.log(f"{sid}: snapshot unusable ({exc})")
            if blob and state is None:
                self.log(f"{sid}: snapshot from other code; rebuilding from the records kept")
            served.remote = state or self._new_remote(sid, config)
            if state is None:
                first = self.store.query(
                    "SELECT MIN(seq) FROM serve_records WHERE system_id=?", (sid,)
                )[0][0]
                served.remote.start_at(first or 0)
        else:
            state = HarmonicaState.load(json.loads(blob)) if blob else None
            served.harmonica = state or HarmonicaState()
        served.snapshot_seq = snapshot_seq if state is not None else 0
        served.seq = served.snapshot_seq
        while True:
            rows = self.store.query(
                "SELECT seq, policy_id, body FROM serve_records WHERE system_id=? AND seq>=?"
                " ORDER BY seq LIMIT ?",
                (sid, served.seq, REPLAY_CHUNK),
            )
            if not rows:
                break
            if served.remote is not None:
                served.remote.ingest([StepRecord.from_row(json.loads(b)) for _, _, b in rows])
            else:
                assert served.harmonica is not None
                for seq, pid, body in rows:
                    policy = self.policies.get(pid)
                    if policy is not None:
                        served.harmonica.evaluate(policy, json.loads(body), seq)
            served.seq = rows[-1][0] + 1
        return served

    def _requeue(self) -> None:
        rows = self.store.query(
            "SELECT id, system_id, policy_id, seq, tactic_id, endpoint, payload, trigger_metric,"
            " trigger_value, attempts, coalesced, created_at FROM serve_deliveries"
            " WHERE state='pending' ORDER BY id"
        )
        for r in rows:
            d = Delivery(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                json.loads(r[6]),
                r[7],
                r[8],
                attempts=r[9],
                coalesced=r[10],
                created_at=r[11],
            )
            self.deliveries.submit(d)
        if rows:
            self.log(f"resending {len(rows)} pending tactic deliveries")

    # systems ------------------------------------------------------------------------------------
    def _new_remote(self, sid: str, config: dict[str, Any]) -> RemoteSystem:
        text, source = policy_text_of(config)
        policy = parse_policy(text, source)
        return RemoteSystem(
            sid, policy, config.get("quality", "r2"), config.get("energy_profile_uj")
        )

    async def system(
        self, sid: str, kind: str, config: dict[str, Any], build: Callable[[], Served]
    ) -> Served:
        """The system ``sid``, created (with its run) if new; concurrent creators share one."""
        served = self.systems.get(sid)
        if served is not None:
            return served
        pending = self._creating.get(sid)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Served] = asyncio.get_running_loop().create_future()
        self._creating[sid] = future
        try:
            served = build()
            engine = "remote" if kind == "v1" else "harmonica"
            name = config.get("policy_name", "harmonica")
            create = start_run(sid, engine, name)

            def job(conn: sqlite3.Connection) -> int:
                run_id = create(conn)
                now = time.time()
                conn.execute(
                    "INSERT INTO serve_systems(system_id, kind, run_id, config_json, created_at,"
                    " updated_at) VALUES (?,?,?,?,?,?)",
                    (sid, kind, run_id, json.dumps(config), now, now),
                )
                return run_id

            served.run_id = await self.store.writer.commit(job)
            self.systems[sid] = served
            future.set_result(served)
            self.log(f"{sid}: new {kind} system (run {served.run_id})")
            return served
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when no one waits
            raise
        finally:
            del self._creating[sid]

    def find(self, sid: str, kind: str | None = None) -> Served:
        served = self.systems.get(sid)
        if served is None or (kind is not None and served.kind != kind):
            raise RequestProblem(
                404, f"system_id: no {kind or ''} system {sid!r}".replace("  ", " "), "system_id"
            )
        return served

    # decisions and deliveries -------------------------------------------------------------------
    def new_delivery(
        self,
        served: Served,
        policy_id: str | None,
        seq: int,
        tactic_id: str,
        endpoint: str,
        payload: dict[str, Any],
        metric: str | None = None,
        value: float | None = None,
    ) -> Delivery:
        d = Delivery(
            self._next_delivery,
            served.system_id,
            policy_id,
            seq,
            tactic_id,
            endpoint,
            {**payload, "delivery_id": self._next_delivery},
            metric,
            value,
        )
        self._next_delivery += 1
        self.deliveries.hold(d)
        served.counts["pending"] += 1
        return d

    async def commit(
        self, systems: list[Served], job: Callable[[sqlite3.Connection], Any], new: list[Delivery]
    ) -> None:
        """Commit an intake; on failure forget its deliveries and rebuild its systems."""
        try:
            await self.store.writer.commit(job)
        except Exception as exc:
            for d in new:
                self.deliveries.release(d)
                self.systems[d.system_id].counts["pending"] -= 1
            for served in systems:
                fresh = await asyncio.to_thread(
                    self._restore,
                    served.system_id,
                    served.kind,
                    served.run_id,
                    json.dumps(served.config),
                    *self._snapshot_row(served.system_id),
                )
                fresh.counts = served.counts
                self.systems[served.system_id] = fresh
            raise RequestProblem(503, f"the knowledge store could not be written ({exc})") from exc
        for d in new:
            self.deliveries.submit(d)

    def _snapshot_row(self, sid: str) -> tuple[bytes | None, int]:
        rows = self.store.query(
            "SELECT snapshot, snapshot_seq FROM serve_systems WHERE system_id=?", (sid,)
        )
        return rows[0] if rows else (None, 0)

    def log_decision(self, served: Served, step: int, text: str, delivery: Delivery | None) -> None:
        """The one line per decision of a headless server (none with ``--quiet``)."""
        if self.config.quiet:
            return
        tail = f" -> {delivery.tactic_id} (delivery {delivery.id})" if delivery else ""
        unit = "step" if served.kind == "v1" else "record"
        self.log(f"{served.system_id} {unit} {step}: {text}{tail}")

    def _delivered(self, d: Delivery) -> None:
        served = self.systems.get(d.system_id)
        if served is not None:
            served.counts["pending"] -= 1
            served.counts[d.state] = served.counts.get(d.state, 0) + 1
        if d.state == "failed" and not self.config.quiet:
            self.log(
                f"{d.system_id}: delivery {d.id} ({d.tactic_id} to {d.endpoint}) failed after"
                f" {d.attempts} attempt(s): {d.http_status or ''} {d.answer or ''}".rstrip()
            )

    # housekeeping: snapshots and retention -----------------------------------------------------
    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            try:
                await self.housekeep()
            except (sqlite3.Error, OSError) as exc:  # a full disk: say so, keep serving
                self.log(f"housekeeping failed: {exc}")

    async def housekeep(self) -> None:
        """Snapshot systems that moved on, then drop what retention no longer keeps.

        One system per commit: a snapshot is ~65 KB and 0.6 ms of pickling (the harmone
        preset), so 100 systems in one go held the event loop ~60 ms and put a 6.5 MB write
        in front of every request's commit (p99 intake latency 190 ms at 2,000 records/s).
        """
        for served in list(self.systems.values()):
            if served.seq > served.snapshot_seq and self.systems.get(served.system_id) is served:
                await self.store.writer.commit(served.snapshot_job())
        keep = self.config.keep_records
        jobs = [
            prune_job(s.system_id, s.run_id, s.snapshot_seq, keep) for s in self.systems.values()
        ]
        if jobs:
            await self.store.writer.commit(lambda conn: [job(conn) for job in jobs])
