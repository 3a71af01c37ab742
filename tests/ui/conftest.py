"""Fixtures for UI tests: isolated config and data dirs, a data dir template with fake versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ui.harness import copy_template, seed_fake_models


@pytest.fixture(autouse=True)
def colour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots are in colour whatever CI's terminal says (tests/conftest.py isolates the dirs)."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(scope="session")
def fake_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-template") / "data"
    seed_fake_models(root)
    return root


@pytest.fixture
def fake_data_dir(fake_template: Path, tmp_path: Path) -> Path:
    """A data dir holding v1 of every fake model (so no first-use training process)."""
    return copy_template(fake_template, tmp_path / "data")


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``predicate()`` holds (never a bare sleep)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
