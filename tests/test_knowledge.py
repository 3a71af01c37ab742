"""The SQLite knowledge store and the model repository, on real files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from mape.knowledge import KnowledgeError, KnowledgeStore, StepRow
from mape.model_repo import ModelRepository


def _store(tmp_path: Path) -> KnowledgeStore:
    return KnowledgeStore.open(tmp_path / "knowledge.sqlite3")


def test_store_is_wal_and_round_trips_runs_steps_events(tmp_path: Path) -> None:
    store = _store(tmp_path)
    mode = sqlite3.connect(tmp_path / "knowledge.sqlite3").execute("PRAGMA journal_mode").fetchone()
    assert mode[0] == "wal"
    run = store.start_run("single-linear", "regression", "demo.csv", {"steps": 3})
    store.add_steps(
        run,
        [
            StepRow(i, 10.0 + i, 11.0 + i, "linear", 1, 0.1, 0.1, 0.15, "estimated")
            for i in range(3)
        ],
    )
    store.add_event(run, 2, "switch", {"from": "lstm", "to": "linear", "reason": "EMA 0.7 < 0.78"})
    store.finish_run(run, "finished", {"r2": 0.9})
    store.close()

    again = _store(tmp_path)
    steps = again.steps(run)
    assert [s.step for s in steps] == [0, 1, 2]
    assert steps[1].truth == 11.0 and steps[1].prediction == 12.0
    assert again.event_counts(run) == {"switch": 1}
    assert again.events(run)[0].detail["reason"] == "EMA 0.7 < 0.78"
    (row,) = again.runs()
    assert row.status == "finished" and row.summary == {"r2": 0.9}


def test_unknown_event_kind_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run = store.start_run("p", "regression", "d", {})
    with pytest.raises(ValueError, match="unknown event kind"):
        store.add_event(run, 0, "swtich", {})


def test_corrupted_store_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    garbage = b"this is not a database at all" * 100
    path.write_bytes(garbage)
    with pytest.raises(KnowledgeError) as info:
        KnowledgeStore.open(path)
    message = str(info.value)
    assert str(path) in message and "mv" in message and "--data-dir" in message
    assert path.read_bytes() == garbage


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(KnowledgeError, match="not writable"):
            KnowledgeStore.open(locked / "knowledge.sqlite3")
    finally:
        locked.chmod(0o700)


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data dir should be")
    with pytest.raises(KnowledgeError, match="cannot create the data directory"):
        KnowledgeStore.open(blocker / "sub" / "knowledge.sqlite3")


def test_runs_of_dead_processes_become_interrupted(tmp_path: Path) -> None:
    store = _store(tmp_path)
    run = store.start_run("p", "regression", "d", {})
    store._conn.execute("UPDATE runs SET pid=999999999 WHERE run_id=?", (run,))
    store.close()
    assert _store(tmp_path).runs()[0].status == "interrupted"


def test_model_versions_commit_atomically_and_count_up(tmp_path: Path) -> None:
    store = _store(tmp_path)
    repo = ModelRepository(tmp_path, store)
    for expected in (1, 2):
        staging = repo.staging_dir("regression", "linear")
        (staging / "model.pkl").write_bytes(b"weights")
        stored = repo.commit(
            "regression", "linear", staging, {"validation_r2": 0.9}, "first use", None
        )
        assert stored.version == expected
        assert stored.directory == tmp_path / "models" / "regression" / "linear" / f"v{expected}"
        assert not staging.exists()
    assert [v.version for v in repo.versions("regression", "linear")] == [1, 2]
    assert repo.latest("regression", "linear").meta["version"] == 2


def test_crash_leftover_staging_is_cleaned_and_never_listed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    repo = ModelRepository(tmp_path, store)
    ours = repo.staging_dir("regression", "lstm")
    (ours / "model.keras").write_bytes(b"partial")
    crashed = ours.with_name(".staging-999999999-1-abcd")  # owned by a process that is gone
    ours.rename(crashed)
    assert repo.versions("regression", "lstm") == []
    assert repo.clean_leftovers() == [crashed]
    assert not crashed.exists()


def test_a_store_from_before_step_times_gains_the_column_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "knowledge.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE steps (run_id INTEGER NOT NULL, step INTEGER NOT NULL, truth REAL,"
        " prediction REAL NOT NULL, model TEXT NOT NULL, version INTEGER NOT NULL,"
        " latency_ms REAL NOT NULL, cpu_ms REAL NOT NULL, energy_mj REAL NOT NULL,"
        " energy_source TEXT NOT NULL, PRIMARY KEY (run_id, step)) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO steps VALUES (1, 0, 1.0, 2.0, 'linear', 1, 0.1, 0.1, 0.2, 'rapl')")
    conn.commit()
    conn.close()
    store = KnowledgeStore.open(path)
    store.add_steps(1, [StepRow(1, 1.0, 2.0, "linear", 1, 0.1, 0.1, 0.2, "rapl", 1700000000.5)])
    assert [(s.step, s.ts) for s in store.steps(1)] == [(0, None), (1, 1700000000.5)]
    store.close()
