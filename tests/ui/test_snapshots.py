"""SVG snapshots of every screen at 80×24 and 120×40, over a scripted, deterministic fake run.

The run is finished before the app starts (the app attaches to the finished session), the
meter, clocks and time zone are frozen (tests/ui/harness.py), so a snapshot changes only when
what the screen draws changes. Regenerate deliberately: ``pytest tests/ui --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harmone_tui.ui.app import HarmoneApp
from tests.ui.harness import frozen, run_scripted

SIZES = {"wide": (120, 40), "narrow": (80, 24)}


@pytest.fixture
def scripted_app(fake_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], HarmoneApp]:
    frozen(monkeypatch)
    session = run_scripted(fake_data_dir)
    return lambda: HarmoneApp(session, autostart=False)


def before(*keys: str) -> Callable[[Any], Any]:
    """Switch screens / press keys, then let one data tick land before the snapshot."""

    async def run_before(pilot: Any) -> None:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause(0.1)
        pilot.app.tick()
        # Let deferred work land (a DataTable scrolls to its cursor after a refresh; under load
        # that can miss a single pause and the scrollbar is caught mid-way).
        for _ in range(3):
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("screen", "keys"),
    [
        ("dashboard", ()),
        ("policy", ("2",)),
        ("events", ("3",)),
        ("models", ("4",)),
        ("runs", ("5",)),
    ],
)
def test_screen(
    snap_compare: Any,
    scripted_app: Callable[[], HarmoneApp],
    screen: str,
    keys: tuple[str, ...],
    size: str,
) -> None:
    assert snap_compare(scripted_app(), terminal_size=SIZES[size], run_before=before(*keys))


def test_help_narrow(snap_compare: Any, scripted_app: Callable[[], HarmoneApp]) -> None:
    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=before("question_mark"))


def test_event_filter_and_invalid_policy(
    snap_compare: Any, scripted_app: Callable[[], HarmoneApp]
) -> None:
    """The event log filtered to switches (typed after /)."""
    assert snap_compare(
        scripted_app(),
        terminal_size=(120, 40),
        run_before=before("3", "slash", "s", "w", "i", "t", "c", "h", "enter"),
    )
