"""Step-row retention on a real SQLite store: what goes, what stays, and that the file shrinks."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from harmone_tui import cli
from mape.knowledge import KnowledgeStore
from mape.retention import prune_steps

ROWS = 40_000


def fill(path: Path, runs: int, rows: int = ROWS, running_first: bool = False) -> list[int]:
    """``runs`` runs of ``rows`` step rows each, with a summary and an event; the first one is
    still running (this process) when ``running_first``."""
    store = KnowledgeStore.open(path)
    ids = []
    try:
        for i in range(runs):
            run_id = store.start_run("single-linear", "regression", "sample", {"steps": rows})
            store.add_step_tuples(
                (
                    run_id,
                    s,
                    float(s),
                    float(s) + 0.5,
                    "linear",
                    1,
                    0.1,
                    0.08,
                    0.12,
                    "estimated",
                    None,
                )
                for s in range(rows)
            )
            store.add_event(run_id, 10, "info", {"reason": "kept"})
            if not (running_first and i == 0):
                store.finish_run(run_id, "finished", {"steps": rows, "r2": 0.9})
            ids.append(run_id)
    finally:
        store.close()
    return ids


def counts(path: Path) -> dict[int, tuple[int, int, bool]]:
    """run -> (step rows, events, has a summary)."""
    conn = sqlite3.connect(path)
    try:
        runs = [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]
        return {
            r: (
                conn.execute("SELECT COUNT(*) FROM steps WHERE run_id=?", (r,)).fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM events WHERE run_id=?", (r,)).fetchone()[0],
                conn.execute("SELECT summary_json FROM runs WHERE run_id=?", (r,)).fetchone()[0]
                is not None,
            )
            for r in runs
        }
    finally:
        conn.close()


def test_prune_keeps_the_newest_and_the_running_run_and_shrinks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    first, second, third, newest = fill(path, 4, running_first=True)
    dry = prune_steps(path, keep=1, dry_run=True)
    assert dry.runs == [second, third] and dry.rows == 2 * ROWS
    assert counts(path)[second][0] == ROWS  # a dry run deletes nothing
    done = prune_steps(path, keep=1)
    assert done.runs == [second, third] and done.rows == 2 * ROWS
    assert not done.vacuumed and f"run {first} is running" in done.note  # never block a writer
    after = counts(path)
    assert after[first] == (ROWS, 1, False)  # running (this process): untouched
    assert after[newest] == (ROWS, 1, True)
    assert after[second] == after[third] == (0, 1, True)  # summary and events stay
    assert prune_steps(path, keep=1).runs == []  # nothing left to do
    store = KnowledgeStore.open(path)
    store.finish_run(first, "stopped", {"steps": ROWS})
    store.close()
    last = prune_steps(path, keep=1)
    assert last.runs == [first] and last.vacuumed and last.note == ""
    assert last.bytes_after < 0.4 * done.bytes_before  # 1 run's steps left of 4
    wal = path.with_name(path.name + "-wal")
    assert last.bytes_after == path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    store = KnowledgeStore.open(path)  # still a healthy store
    store.close()


def test_prune_older_than_days(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    old, recent = fill(path, 2, rows=1000)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE runs SET started_at=? WHERE run_id=?", (time.time() - 10 * 86400, old))
    conn.commit()
    conn.close()
    assert prune_steps(path, older_than_days=7).runs == [old]
    assert counts(path)[recent][0] == 1000


def call(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_runs_prune_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "knowledge.sqlite3"
    ids = fill(path, 3, rows=20_000)
    assert call(["runs", "prune", "--keep", "1", "--dry-run", "--data-dir", str(tmp_path)]) == 0
    assert "would delete 40,000 step rows of 2 run(s): 1, 2" in capsys.readouterr().out
    assert call(["--data-dir", str(tmp_path), "runs", "prune", "--keep", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("deleted 40,000 step rows of 2 run(s): 1, 2; store ") and " -> " in out
    assert call(["runs", "list", "--json", "--data-dir", str(tmp_path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["run_id"], r["steps_stored"]) for r in listed] == [
        (ids[2], True),
        (ids[1], False),
        (ids[0], False),
    ]
    assert call(["runs", "list", "--data-dir", str(tmp_path)]) == 0
    assert "* step rows pruned" in capsys.readouterr().out


def write_settings(text: str) -> Path:
    config = Path(os.environ["HARMONE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(text)
    return config / "settings.toml"


def test_the_setting(tmp_path: Path) -> None:
    from harmone_tui.retention import DEFAULT_KEEP, configured_keep

    assert configured_keep() == DEFAULT_KEEP  # no settings.toml
    write_settings('[ui]\ntheme = "nord"\n')
    assert configured_keep() == DEFAULT_KEEP
    write_settings("[store]\nkeep_steps_runs = 5\n")
    assert configured_keep() == 5
    write_settings('[store]\nkeep_steps_runs = "all"\n')
    assert configured_keep() is None


def test_bad_retention_setting_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "knowledge.sqlite3"
    fill(path, 1, rows=10)
    settings = write_settings("[store]\nkeep_steps_runs = -2\n")
    argv = ["--no-ui", "--policy", "single-linear", "--steps", "20", "--data-dir", str(tmp_path)]
    assert call(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(settings) in err and "keep_steps_runs" in err
    assert len(counts(path)) == 1  # no run was started


@pytest.mark.slow
def test_a_run_prunes_to_the_setting_and_the_flag_overrides_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real headless run (single-linear, first-use training) applies retention when it ends."""
    path = tmp_path / "knowledge.sqlite3"
    old = fill(path, 3, rows=5000)
    write_settings("# mine\n[store]\nkeep_steps_runs = 2\n")
    argv = ["--no-ui", "--policy", "single-linear", "--steps", "30", "--data-dir", str(tmp_path)]
    assert call(argv) == 0
    after = counts(path)
    new = max(after)
    assert after[new][0] == 30 and after[old[2]][0] == 5000
    assert after[old[0]][0] == after[old[1]][0] == 0
    assert "removed 10,000 rows of 2 older run(s)" in capsys.readouterr().err
    assert call([*argv, "--quiet", "--keep-steps-runs", "all"]) == 0
    assert sum(1 for rows, _, _ in counts(path).values() if rows) == 3
    assert call([*argv, "--quiet", "--keep-steps-runs", "1"]) == 0
    assert [r for r, (rows, _, _) in counts(path).items() if rows] == [max(counts(path))]
