"""Every signal that stops a process ends a headless run cleanly: summary, final status, 128+n.

In-process over the fake engine (the signal is sent to this process while the run is paced);
tests/test_headless.py sends real signals to real `harmone --no-ui` processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harmone_tui.headless import run_headless
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.signals import SIGNALS, exit_code
from harmone_tui.snapshot import RunSnapshot
from mape.knowledge import KnowledgeStore
from mape.policy_file import parse_policy
from tests.listening import OnSnapshot
from tests.ui.harness import FAKE_POLICY, seed_fake_models


@pytest.fixture(scope="module")
def fake_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-models")
    seed_fake_models(root)
    return root


@pytest.fixture
def unhandled() -> Iterator[list[int]]:
    """Signals nobody took over land here instead of killing the test process."""
    seen: list[int] = []
    saved = {sig: signal.signal(sig, lambda n, _f: seen.append(n)) for sig in SIGNALS}
    yield seen
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_each_signal_stops_a_paced_run_with_its_summary_and_128_plus_n(
    fake_template: Path, tmp_path: Path, unhandled: list[int], sig: signal.Signals
) -> None:
    data_dir = Path(shutil.copytree(fake_template, tmp_path / "data"))
    policy = parse_policy(FAKE_POLICY, "test policy")
    settings = RunSettings(data_dir=data_dir, engine="fake", speed=20)
    settings.steps = 400  # a bound: 20 s at this pace
    runtime = Runtime(settings, policy, "test policy", FAKE_POLICY)
    sent: list[int] = []

    def listen(snap: RunSnapshot) -> None:
        if snap.step >= 3 and not sent:
            sent.append(snap.step)
            os.kill(os.getpid(), sig)

    runtime.listeners.append(OnSnapshot(listen))
    out = tmp_path / "summary.json"
    code = run_headless(runtime, out, quiet=True)
    assert unhandled == []
    assert code == exit_code(sig) == 128 + sig.value
    summary = json.loads(out.read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == sig.name
    assert 3 <= summary["steps"] < 100
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    row = store.run(summary["run_id"])
    assert row is not None and row.status == "stopped"
    assert store.step_count(summary["run_id"]) == summary["steps"]
    store.close()


def test_a_predict_that_never_returns_does_not_hold_up_a_signal(
    fake_template: Path, tmp_path: Path, unhandled: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model hangs in its thread; SIGTERM still stores the run and returns 143."""
    import threading

    from engines.fake import FakeModel

    data_dir = Path(shutil.copytree(fake_template, tmp_path / "data"))
    policy = parse_policy(FAKE_POLICY, "test policy")
    runtime = Runtime(
        RunSettings(data_dir=data_dir, engine="fake", steps=400), policy, "test policy", FAKE_POLICY
    )
    release, calls = threading.Event(), {"n": 0}
    real_predict = FakeModel.predict

    def hanging(self: FakeModel, x: Any) -> float:
        calls["n"] += 1
        if calls["n"] == 200:  # past calibration, mid-run
            os.kill(os.getpid(), signal.SIGTERM)
            release.wait(600)
        return real_predict(self, x)

    monkeypatch.setattr(FakeModel, "predict", hanging)
    out = tmp_path / "summary.json"
    try:
        code = run_headless(runtime, out, quiet=True)
    finally:
        release.set()
    assert unhandled == [] and code == 143
    summary = json.loads(out.read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == "SIGTERM"
