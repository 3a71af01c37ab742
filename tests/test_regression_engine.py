"""The regression engine on real PeMS data: input checks, training, scalers, the real LSTM."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engines.base import EngineError, TrainRequest
from engines.metrics import r2
from engines.regression.data import read_series
from engines.regression.engine import RegressionEngine
from engines.regression.training import train_model, windows
from tests.conftest import RAW_PEMS_WEEK, SAMPLE


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stream.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("speed\n1\n2\n", "no column 'flow'"),
        ("flow\n1\n2\nabc\n4\n5\n6\n7\n", "line 4, column 'flow': 'abc' is not a number"),
        ("flow\n1\n2\n3\nnan\n5\n6\n7\n", "line 5, column 'flow': value is 'nan'"),
        ("flow\n1\n2\n3\n", "only 3 rows"),
    ],
)
def test_bad_csv_gets_one_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(EngineError) as info:
        read_series(path, "flow", min_rows=6)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="nope.csv: file not found"):
        read_series(tmp_path / "nope.csv")


def test_raw_pems_week_reads_by_column_name() -> None:
    flow = read_series(RAW_PEMS_WEEK, "Flow (Veh/5 Minutes)")
    assert len(flow) == 2015 and flow[:3].tolist() == [31.0, 18.0, 24.0]


def _train(tmp_path: Path, model: str, values: np.ndarray, **params: object) -> dict:
    out = tmp_path / model
    out.mkdir()
    return train_model(TrainRequest("regression", model, values, out, dict(params))).meta


def test_ridge_alpha_is_chosen_by_validation_not_the_published_256(tmp_path: Path) -> None:
    train = read_series(SAMPLE / "flow_train.csv")
    meta = _train(tmp_path, "linear", train)
    chosen = meta["hyperparameters"]["alpha"]
    scores = meta["hyperparameters"]["validation_r2_by_alpha"]
    assert chosen < 256.0
    assert scores[str(chosen)] > scores["256.0"] + 0.05
    assert meta["validation_r2"] > meta["persistence_validation_r2"]


def test_a_policy_can_fix_hyperparameters(tmp_path: Path) -> None:
    meta = _train(tmp_path, "linear", read_series(SAMPLE / "flow_train.csv"), alpha=256.0)
    assert meta["hyperparameters"]["alpha"] == 256.0


def test_each_version_scales_with_its_own_scaler(tmp_path: Path) -> None:
    """A model trained on data 10x larger must predict in those units (HarmonE fault §7)."""
    train = read_series(SAMPLE / "flow_train.csv")
    engine = RegressionEngine(train * 10, train)
    small = tmp_path / "small"
    big = tmp_path / "big"
    for d, data in ((small, train), (big, train * 10)):
        d.mkdir()
        meta = train_model(TrainRequest("regression", "linear", data, d)).meta
        (d / "meta.json").write_text(__import__("json").dumps(meta))
    x = train[100:105]
    p_small = engine.load("linear", 1, small).predict(x)
    p_big = engine.load("linear", 2, big).predict(x * 10)
    assert p_big == pytest.approx(10 * p_small, rel=0.05)


def test_too_few_rows_to_train_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="too few rows"):
        _train(tmp_path, "svm", np.arange(8.0))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.full(60, 42.0), "all 60 training values are 42; the models scale by the training"),
        (np.r_[np.arange(30.0), 1e300, np.arange(29.0)], "training value 31 is 1e+300"),
        (np.r_[np.arange(30.0), np.nan, np.arange(29.0)], "training value 31 is nan"),
    ],
)
def test_training_data_a_model_cannot_learn_from_is_one_clear_error(
    tmp_path: Path, values: np.ndarray, message: str
) -> None:
    with pytest.raises(EngineError, match=re.escape(f"linear training data: {message}")):
        _train(tmp_path, "linear", values)


def _train_file(tmp_path: Path, cells: list[str]) -> Path:
    path = tmp_path / "train.csv"
    path.write_text("flow\n" + "\n".join(cells) + "\n")
    return path


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["42"] * 60, "train.csv, column 'flow': all 60 training values are 42"),
        ([*map(str, range(30)), "1.5e308", *["7"] * 29], "train.csv: line 32, column 'flow'"),
    ],
)
def test_a_training_file_is_checked_before_anything_is_trained(
    tmp_path: Path, cells: list[str], message: str
) -> None:
    from engines.regression.factory import create_regression_engine

    with pytest.raises(EngineError, match=re.escape(message)):
        create_regression_engine(None, train=_train_file(tmp_path, cells))


def test_r2_of_values_too_large_to_square_is_exact_and_silent() -> None:
    import warnings

    truth = np.array([1.0, 2.0, 3.0, 4.0]) * 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2(truth, truth * 1.0) == 1.0
        assert r2(truth, np.full(4, 2.5e300)) == pytest.approx(0.0)


@pytest.mark.slow
@pytest.mark.lstm
def test_real_lstm_trains_and_predicts_one_sample_like_the_batch_call(trained_lstm: Path) -> None:
    import json

    meta = json.loads((trained_lstm / "meta.json").read_text())
    assert (trained_lstm / "model.keras").exists()
    assert meta["validation_r2"] > 0.8
    train = read_series(SAMPLE / "flow_train.csv")
    stream = read_series(SAMPLE / "pems_stream.csv")[:400]
    engine = RegressionEngine(stream, train)
    engine.serving = "framework"
    model = engine.load("lstm", 1, trained_lstm)
    preds = np.array([model.predict(s.x) for s in engine.samples()])
    truths = stream[5:]
    assert r2(truths, preds) > 0.8
    from engines.regression.lstm import load_lstm

    lo, hi = meta["scaler"]["min"], meta["scaler"]["max"]
    x, _ = windows((stream - lo) / (hi - lo))
    batch = load_lstm(trained_lstm).predict_batch(x[:50]) * (hi - lo) + lo
    np.testing.assert_allclose(preds[:50], batch, rtol=1e-3, atol=1e-2)
