"""Shared fixtures: every test gets its own data and config directories, never the user's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RAW_PEMS_WEEK = Path(__file__).resolve().parent / "data" / "pems_week3_raw.csv"
SAMPLE = REPO / "sample_data"
# The stream many tests' regimes and figures come from (rows 3528 and 7056 start its drifts); a
# run without --data streams the demo scenario instead (engines/regression/factory.py).
PEMS_STREAM = SAMPLE / "pems_stream.csv"


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the data, config and XDG dirs at a temporary place for the whole test."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HARMONE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("HARMONE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "xdg-config"))
    return base


def harmone_cmd(*args: str) -> list[str]:
    """The `harmone` command as a subprocess argv, using the interpreter running the tests."""
    return [sys.executable, "-m", "harmone_tui", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def trained_lstm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real LSTM version directory (15 epochs on the bundled training file), trained once per
    session: training takes most of a minute, and several tests only need one to load."""
    import json

    from engines.base import TrainRequest
    from engines.regression.data import read_series
    from engines.regression.training import train_model

    out = tmp_path_factory.mktemp("trained") / "lstm"
    out.mkdir()
    train = read_series(SAMPLE / "flow_train.csv")
    meta = train_model(TrainRequest("regression", "lstm", train, out, {"epochs": 15})).meta
    (out / "meta.json").write_text(json.dumps(meta))
    return out
