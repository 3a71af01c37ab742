"""Retention of step rows: keep the steps of recent runs, the summaries and events of all.

Step rows are most of the store (a 1M-step run added 77 MB), and nothing the app shows about an
earlier run needs them: its summary and events stay. Pruning deletes whole runs' step rows, never
those of a run that is still running (its process alive), and then VACUUMs so the file shrinks;
after a run the VACUUM is done only when a quarter of the file is free, because SQLite reuses the
freed pages for the next run's steps anyway and a VACUUM rewrites the whole file. No VACUUM while
another run is running: it would block that run's step writer.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from mape.knowledge import KnowledgeError, KnowledgeStore

BUSY_TIMEOUT_MS = 10_000
VACUUM_FREE_SHARE = 0.25
DAY_S = 86_400.0


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed (or would remove, for a dry run) and the file size around it."""

    runs: list[int] = field(default_factory=list)
    rows: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    vacuumed: bool = False
    note: str = ""


def _file_bytes(path: Path) -> int:
    """The store's size on disk, write-ahead log included."""
    wal = path.with_name(path.name + "-wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def _candidates(
    conn: sqlite3.Connection, keep: int | None, older_than_days: float | None
) -> list[int]:
    """Runs (not running) outside the kept set that still have step rows, oldest first."""
    rows = conn.execute(
        "SELECT run_id, started_at, status FROM runs ORDER BY run_id DESC"
    ).fetchall()
    cutoff = None if older_than_days is None else time.time() - older_than_days * DAY_S
    out = []
    for index, (run_id, started_at, status) in enumerate(rows):
        if status == "running":
            continue
        if keep is not None and index < keep:
            continue
        if cutoff is not None and started_at >= cutoff:
            continue
        if conn.execute("SELECT 1 FROM steps WHERE run_id=? LIMIT 1", (run_id,)).fetchone():
            out.append(int(run_id))
    return sorted(out)


def prune_steps(
    path: Path,
    keep: int | None = None,
    older_than_days: float | None = None,
    dry_run: bool = False,
    vacuum: str = "always",
) -> PruneResult:
    """Delete the step rows of runs beyond the ``keep`` newest, or started over
    ``older_than_days`` ago; ``vacuum`` is "always" (when rows went) or "when-worth-it"."""
    if keep is None and older_than_days is None:
        raise ValueError("prune_steps needs keep or older_than_days")
    KnowledgeStore.open(path).close()  # refuses a corrupted file; marks dead processes' runs
    before = _file_bytes(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        runs = _candidates(conn, keep, older_than_days)
        rows = sum(
            conn.execute("SELECT COUNT(*) FROM steps WHERE run_id=?", (r,)).fetchone()[0]
            for r in runs
        )
        if dry_run or not runs:
            return PruneResult(runs, rows, before, before)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("DELETE FROM steps WHERE run_id=?", [(r,) for r in runs])
        conn.execute("COMMIT")
        running = [r for (r,) in conn.execute("SELECT run_id FROM runs WHERE status='running'")]
        if running:  # a VACUUM would hold its writer off for as long as it takes
            vacuumed, note = (
                False,
                (
                    f"the file was not compacted while run {running[0]} is running;"
                    " SQLite reuses the freed space"
                ),
            )
        else:
            vacuumed, note = _vacuum(conn, vacuum == "always")
    except sqlite3.Error as exc:
        raise KnowledgeError(f"{path}: could not prune step rows ({exc})") from exc
    finally:
        conn.close()
    return PruneResult(runs, rows, before, _file_bytes(path), vacuumed, note)


def _vacuum(conn: sqlite3.Connection, always: bool) -> tuple[bool, str]:
    """VACUUM and truncate the WAL so the file shrinks; skipped if another process holds it."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if not free or (not always and free < VACUUM_FREE_SHARE * pages):
        return False, ""
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError as exc:
        return False, f"the file was not compacted ({exc}); SQLite reuses the freed space"
    return True, ""
