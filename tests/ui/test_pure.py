"""The UI's pure helpers (no Textual app): doctests, event sentences, filters, status line."""

from __future__ import annotations

import doctest

import pytest

import engines.fake
from harmone_tui.ui import figures, format, policy_edit
from harmone_tui.ui.format import describe
from harmone_tui.ui.widgets.event_table import matches
from harmone_tui.ui.widgets.status_bar import StatusBar, StatusInfo


@pytest.mark.parametrize("module", [format, figures, policy_edit, engines.fake])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.failed == 0


def test_event_sentences_carry_their_figures() -> None:
    assert describe(
        "retrain_done",
        {
            "model": "lstm",
            "version": 3,
            "validation_r2": 0.91234,
            "train_cpu_s": 12.5,
            "reason": "drift",
        },
    ) == ("retrained lstm → v3: val R² 0.912, 12 CPU-s (drift)")
    assert describe(
        "retrain_done",
        {"model": "linear", "version": 2, "validation_r2": 0.3, "persistence_validation_r2": 0.25},
    ) == ("retrained linear → v2: val R² 0.3 (repeat-last 0.25)")
    assert describe("drift", {"statistic": 0.9, "threshold": 0.75}) == "drift 0.9 > 0.75"
    assert describe("switch", {"from": "a", "to": "b", "reason": "r", "ema": 0.5}) == (
        "switch a→b: r (EMA 0.5)"
    )
    keep = {"model": "svm", "version": 2, "reason": "fits", "kl_by_version": {"svm v2": 0.1}}
    assert describe("keep", keep) == "keep svm v2: fits (KL by version svm v2 0.1)"


# Details as the MAPE loop records them (copied from a run of the harmone policy).
LOOP_EVENTS = [
    (
        "switch",
        {
            "from": "lstm",
            "to": "linear",
            "reason": "energy budget 0.5 exceeded",
            "cause": "energy",
            "ema": {"linear": 0.8, "svm": 0.79, "lstm": 0.8744},
        },
    ),
    (
        "drift",
        {
            "reason": "kl statistic 0.7821 > threshold 0.75",
            "detector": "kl",
            "input": "truth",
            "statistic": 0.7821,
            "threshold": 0.75,
            "detected_at": 3660,
            "on_drift": "reuse_or_retrain",
            "act_at": 4260,
        },
    ),
    (
        "retrain_started",
        {
            "model": "linear",
            "reason": "no stored version other than the running one",
            "swap_step": 4527,
            "trigger": "drift",
            "detected_at": 3660,
            "kl_by_version": {"v1": 3.5777},
            "rows": 600,
        },
    ),
    (
        "reuse",
        {
            "model": "linear",
            "version": 1,
            "from": "linear v2",
            "reason": "closest data",
            "trigger": "drift",
            "detected_at": 7460,
            "kl_by_version": {"v1": 0.0318, "v2": 3.6347},
        },
    ),
]


def test_events_read_as_text_never_python_reprs() -> None:
    for kind, detail in LOOP_EVENTS:
        text = describe(kind, detail)
        assert not any(ch in text for ch in "{}[]'="), text
    assert describe(*LOOP_EVENTS[0]) == (
        "switch lstm→linear: energy budget 0.5 exceeded (cause energy; EMA linear 0.8, svm 0.79,"
        " lstm 0.874)"
    )
    assert describe(*LOOP_EVENTS[1]).endswith(
        "(detector kl; input truth; detected at step 3,660; on drift reuse_or_retrain;"
        " acts at step 4,260)"
    )


def test_filter_alternatives() -> None:
    assert matches("switch|reuse", "reuse", "reuse lstm v1")
    assert not matches("drift", "switch", "switch a→b")
    assert matches("", "error", "anything")


def test_status_line_narrow_and_wide() -> None:
    info = StatusInfo(
        "running",
        step=1200,
        total=14000,
        rate=49.6,
        speed=50,
        model="lstm",
        version=2,
        policy="harmone",
        energy="est.",
    )
    wide = StatusBar.line(info).plain
    assert (
        "step 1,200/14,000" in wide
        and "50 steps/s (speed 50/s)" in wide
        and "policy harmone" in wide
    )
    narrow = StatusBar.line(info, narrow=True).plain
    assert "policy" not in narrow and "lstm v2" in narrow
