"""The read model: every screen reads the run's snapshot, and a UI tick never queries SQLite.

A live fake run with the real knowledge store; every statement on the store's connection is
counted (sqlite3's trace callback) while the app ticks on each screen.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harmone_tui.ui.app import HarmoneApp
from tests.ui.conftest import wait_for
from tests.ui.harness import fake_session

SIZE = (120, 40)
SCREENS = ("dashboard", "models", "events", "runs", "policy")


async def settled(pilot: Any, statements: list[str], quiet_s: float = 0.3) -> int:
    """Wait until what a screen reads when shown is read (no statement but the step writer's
    for ``quiet_s``; bounded), and return how many statements there were by then."""
    seen, quiet, deadline = len(statements), 0.0, time.monotonic() + 30
    while quiet < quiet_s and time.monotonic() < deadline:
        await pilot.pause(0.05)
        reads = [s for s in statements[seen:] if not s.startswith("INSERT")]
        quiet = 0.0 if reads else quiet + 0.05
        seen = len(statements)
    return seen


async def test_ticks_on_every_screen_query_no_sqlite(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=50.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.snapshot.step > 20)
        statements: list[str] = []
        app.session.store._conn.set_trace_callback(statements.append)
        for mode in SCREENS:
            await app.switch_mode(mode)
            await wait_for(
                pilot,
                lambda m=mode: type(app.screen) is HarmoneApp.MODES[m] and app.screen.data_ready,
            )
            shown = await settled(pilot, statements)  # on show, the runs list reads the store
            steps = app.session.snapshot.step
            for _ in range(5):
                app._last_tick = None  # force a full redraw, as when figures changed
                app.tick()
                await pilot.pause(0.05)
            assert app.session.snapshot.step > steps, "the run went on meanwhile"
            ticked = [s for s in statements[shown:] if not s.startswith("INSERT")]
            assert ticked == [], f"{mode}: a tick queried the store: {ticked[:3]}"


async def test_the_status_bar_and_palette_follow_the_snapshot(fake_data_dir: Path) -> None:
    app = HarmoneApp(fake_session(fake_data_dir, speed=200.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.live and app.session.snapshot.step > 5)
        app.session.runtime.request_switch("fast")
        await wait_for(pilot, lambda: app.session.snapshot.active_model == "fast")
        snap = app.session.snapshot
        info = app.status_info()
        assert info.model.startswith("fast") and info.version == snap.versions["fast"]
        assert snap.counters["switches"] == 1
        assert [e.kind for e in app.session.events if e.kind == "switch"] == ["switch"]
