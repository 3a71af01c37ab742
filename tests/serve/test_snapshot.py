"""Loop snapshots: restored exactly, refused when they name anything else, ignored when taken
by other code (the system is rebuilt from the records kept)."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest

from harmone_tui.serve import snapshot
from harmone_tui.serve.systems import RemoteSystem, StepRecord
from mape.policy_file import parse_policy
from tests.serve.helpers import running
from tests.serve.streams import POLICY, records
from tests.serve.test_v1_api import decisions, post_all


def steps(stream: list[dict]) -> list[StepRecord]:
    return [
        StepRecord(r["prediction"], r["truth"], r["model"], 1, r["energy_uj"], 0.1, None)
        for r in stream
    ]


def test_a_restored_loop_decides_as_the_original() -> None:
    stream = steps(records(1500))
    system = RemoteSystem("s", parse_policy(POLICY, "policy"), "r2")
    system.ingest(stream[:700])
    copy = snapshot.load(snapshot.dump(system))
    later = [(a.step, a.kind, a.detail) for a in system.ingest(stream[700:])]
    assert [(a.step, a.kind, a.detail) for a in copy.ingest(stream[700:])] == later


class _Evil:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo owned",))


def test_a_crafted_snapshot_is_refused() -> None:
    with pytest.raises(snapshot.RefusedSnapshot, match="system"):
        snapshot.load(snapshot.FINGERPRINT + pickle.dumps(_Evil()))


def test_a_snapshot_of_other_code_is_rebuilt_from_records(tmp_path: Path) -> None:
    stream = records(1200)
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/s", json={"policy": POLICY})
        post_all(http, "s", stream[:600], 12)
        before = decisions(http, "s")
    db = sqlite3.connect(tmp_path / "knowledge.sqlite3")
    (blob,) = db.execute("SELECT snapshot FROM serve_systems").fetchone()
    db.execute("UPDATE serve_systems SET snapshot=?", (b"\0" + blob[1:],))
    db.commit()
    db.close()
    with running(tmp_path) as server, server.client() as http:
        assert any("snapshot from other code" in line for line in server.lines)
        assert http.get("/v1/systems/s").json()["status"]["step"] == 600
        post_all(http, "s", stream[600:], 13)
        assert decisions(http, "s")[: len(before)] == before
