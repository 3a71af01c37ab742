"""Nothing acknowledged is lost: a restart (clean or kill -9) resumes every system's loop."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import harmone_cmd, subprocess_env
from tests.serve.helpers import running
from tests.serve.streams import POLICY, records
from tests.serve.test_v1_api import decisions, post_all, reference


def test_clean_restart_mid_stream_resumes_the_loop(tmp_path: Path) -> None:
    stream = records(1500)
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/s", json={"policy": POLICY})
        post_all(http, "s", stream[:700], 5)
    with running(tmp_path) as server, server.client() as http:
        post_all(http, "s", stream[700:], 6)
        assert decisions(http, "s") == reference(stream)
        assert http.get("/v1/systems/s").json()["records"] == 1500


def test_retention_keeps_n_records_and_the_state_survives(tmp_path: Path) -> None:
    stream = records(1500)
    with running(tmp_path, keep_records=200) as server, server.client() as http:
        http.put("/v1/systems/s", json={"policy": POLICY})
        post_all(http, "s", stream[:1000], 7)
        service = server.control.service
        assert service is not None
        server.call(service.housekeep)
    db = sqlite3.connect(tmp_path / "knowledge.sqlite3")
    stored = db.execute("SELECT MIN(seq), COUNT(*) FROM serve_records").fetchone()
    db.close()
    assert stored == (800, 200)
    with running(tmp_path, keep_records=200) as server, server.client() as http:
        post_all(http, "s", stream[1000:], 8)
        assert decisions(http, "s") == reference(stream)


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        harmone_cmd("serve", "--port", "0", "--data-dir", str(data_dir)),
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1)
    raise AssertionError(f"server did not start (exit {proc.wait()})")


@pytest.mark.slow
def test_kill_9_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    stream = records(1500)
    proc, url = _start(tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            http.put("/v1/systems/k", json={"policy": POLICY})
            post_all(http, "k", stream[:900], 9)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc, url = _start(tmp_path)
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/v1/systems/k").json()["records"] == 900
            post_all(http, "k", stream[900:], 10)
            assert decisions(http, "k") == reference(stream)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert proc.stderr is not None
        assert "stopped; state stored" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_harmonica_historic_mean_survives_a_restart(tmp_path: Path) -> None:
    from tests.serve.test_harmonica_api import harmonica_policy, record

    policy = harmonica_policy("http://127.0.0.1:9/none", dynamic_logic="historic_avg * 0.9")
    with running(tmp_path) as server, server.client() as http:
        http.post("/api/policy", json=policy)
        for score in (0.7, 0.7, 0.7):
            http.post("/api/telemetry", json=record(score))
    db = sqlite3.connect(tmp_path / "knowledge.sqlite3")
    db.execute("UPDATE serve_systems SET snapshot=NULL, snapshot_seq=0")  # replay every record
    db.commit()
    db.close()
    with running(tmp_path) as server, server.client() as http:
        # 0.65 < 0.78 fires on the static test alone (no history), but not below
        # mean(0.7, 0.7, 0.7) * 0.9 = 0.63: it must not fire when the history was kept.
        assert http.post("/api/telemetry", json=record(0.65)).json()["tactics"] == []
        history = http.get("/api/knowledge/reg_harmone_score").json()["telemetry_history"]
        assert [r["score"] for r in history] == [0.7, 0.7, 0.7, 0.65]


def test_a_stopped_systems_run_shows_in_harmone_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harmone_tui.cli import main

    stream = records(1000)
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/s", json={"policy": POLICY})
        post_all(http, "s", stream, 14)
        switches = sum(1 for _, kind in decisions(http, "s") if kind == "switch")
    assert main(["runs", "list", "--json", "--data-dir", str(tmp_path)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["engine"] == "remote" and row["status"] == "stopped"
    assert row["steps"] == 1000 and row["switches"] == switches > 0
