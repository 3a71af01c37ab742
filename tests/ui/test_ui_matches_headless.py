"""The TUI and --no-ui drive the same Runtime: on the same knowledge, the same run decides alike.

Real regression engine, real retraining worker, the PeMS test stream through its first drift and
retrain. Both data dirs start as copies of one whose base versions were trained once, because a
run's adaptations depend on the versions already stored (a later run reuses an earlier retrain).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harmone_tui import paths
from harmone_tui.settings import RunSettings
from harmone_tui.ui.app import HarmoneApp
from harmone_tui.ui.session import RunSession
from mape.knowledge import KnowledgeStore
from mape.policy_file import resolve_policy
from tests.conftest import PEMS_STREAM
from tests.ui.conftest import wait_for

POLICY = "single-linear+retrain"
STEPS = 5000  # past the first drift (step ~3,660) and its retrain's swap


def headless(data_dir: Path, *args: str) -> dict:
    summary = data_dir.parent / f"{data_dir.name}-summary.json"
    env = {**os.environ, "CI": "true"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harmone_tui",
            "--no-ui",
            "--data-dir",
            str(data_dir),
            "--policy",
            POLICY,
            "--summary",
            str(summary),
            "--quiet",
            "--data",
            str(PEMS_STREAM),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(summary.read_text())


def adaptations(data_dir: Path, run_id: int) -> list[tuple[int, str, object]]:
    store = KnowledgeStore.open(paths.knowledge_file(data_dir))
    try:
        return [
            (e.step, e.kind, e.detail.get("version"))
            for e in store.events(run_id)
            if e.kind not in ("policy_changed", "info")
        ]
    finally:
        store.close()


@pytest.mark.slow
async def test_tui_run_makes_the_headless_runs_decisions(tmp_path: Path) -> None:
    base = tmp_path / "base"
    headless(base, "--steps", "10")  # first-use training of the base versions, once
    ui_dir, cli_dir = tmp_path / "ui", tmp_path / "cli"
    shutil.copytree(base, ui_dir)
    shutil.copytree(base, cli_dir)

    cli = headless(cli_dir, "--steps", str(STEPS), "--speed", "max")

    policy, source, text = resolve_policy(POLICY)
    app = HarmoneApp(
        RunSession(
            RunSettings(data=PEMS_STREAM, data_dir=ui_dir, steps=STEPS, speed=None),
            policy,
            source,
            text,
        )
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.session.state in ("finished", "failed"), timeout=180)
        assert app.session.state == "finished", app.session.error
        run_id = app.session.runtime.run_id
        await pilot.press("q")
    ui = app.session.summary

    ui_events, cli_events = adaptations(ui_dir, run_id), adaptations(cli_dir, cli["run_id"])
    assert [kind for _, kind, _ in cli_events].count("retrain_done") >= 1
    assert ui_events == cli_events
    for key in ("steps", "r2", "mae", "switches", "retrains", "reuses", "drifts"):
        assert ui[key] == cli[key], key
