"""The TUI ends on every stopping signal like on `q`: the run's summary is stored, exit 128+n.

A real signal is sent to this process while the app runs in Textual's test harness (the app's
handlers sit on the running loop, as in `harmone`). Signals the app did not take over are caught
by a fallback handler instead of killing the test process.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harmone_tui.signals import SIGNALS, exit_code
from harmone_tui.ui.app import HarmoneApp
from mape.knowledge import KnowledgeStore
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session


@pytest.fixture
def unhandled() -> Iterator[list[int]]:
    seen: list[int] = []
    saved = {sig: signal.signal(sig, lambda n, _f: seen.append(n)) for sig in SIGNALS}
    yield seen
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_signal_stops_a_live_run_and_exits_128_plus_n(
    fake_data_dir: Path, unhandled: list[int], sig: signal.Signals
) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=20.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.runtime.step > 2)
        os.kill(os.getpid(), sig)
        await wait_for(pilot, lambda: app.return_code is not None, timeout=15)
    assert unhandled == []
    assert app.return_code == exit_code(sig)
    summary = app.session.summary
    assert summary is not None and summary["status"] == "stopped"
    assert summary["stop_reason"] == sig.name
    store = KnowledgeStore.open(fake_data_dir / "knowledge.sqlite3")
    assert [r.status for r in store.runs()] == ["stopped"]
    store.close()


async def test_a_signal_during_first_use_training_quits_and_marks_the_run(
    tmp_path: Path, unhandled: list[int]
) -> None:
    """No stored models: start-up trains them in the worker process; SIGTERM must not wait."""
    data_dir = tmp_path / "fresh"
    app = HarmoneApp(fake_session(data_dir, speed=20.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "training" in app.session.progress, timeout=30)
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_for(pilot, lambda: app.return_code is not None, timeout=15)
    assert unhandled == [] and app.return_code == 143
    store = KnowledgeStore.open(data_dir / "knowledge.sqlite3")
    (run,) = store.runs()
    assert run.status == "stopped" and run.summary["stop_reason"] == "SIGTERM"
    assert store.versions() == []
    store.close()
