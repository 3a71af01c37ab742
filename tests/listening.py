"""A run listener for tests: calls one function with every snapshot the runtime publishes."""

from __future__ import annotations

from collections.abc import Callable

from harmone_tui.snapshot import RunListener, RunSnapshot


class OnSnapshot(RunListener):
    def __init__(self, fn: Callable[[RunSnapshot], object]) -> None:
        self.fn = fn

    def snapshot(self, snap: RunSnapshot) -> None:
        self.fn(snap)
