"""The Examples in the MAPE modules' docstrings are tests too (pure functions: score, KL, plans)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "mape.monitor",
    "mape.drift",
    "mape.analyse",
    "mape.plan",
    "mape.policy_doc",
    "mape.policy_fields",
    "mape.policy_schema",
    "mape.harmonica",
    "harmone_tui.compare_report",
    "harmone_tui.units",
    "harmone_tui.ledger_report",
    "harmone_tui.ui.energy_view",
    "harmone_tui.ui.figures",
    "engines.energy",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
