"""Serving paths: each model's fast path gives its framework's answer on real trained versions.

The fast path is what a run charges energy for by default, so it must be the same model: on the
version's own training data every prediction is within 1e-6 relative of scikit-learn's (or the
XLA-compiled Keras call's). Selection is the policy's ``serving`` key; damaged or foreign
versions are refused at load on either path, never mid-run.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from engines.base import EngineError, TrainRequest
from engines.regression.data import read_series
from engines.regression.engine import RegressionEngine
from engines.regression.training import WINDOW, train_model
from harmone_tui.settings import RunSettings
from mape.policy import PolicyError, policy_from_mapping
from mape.policy_file import parse_policy, resolve_policy
from tests.conftest import SAMPLE
from tests.running import NewRun

TRAIN = read_series(SAMPLE / "flow_train.csv")


def train_into(directory: Path, model: str, **params: object) -> Path:
    """A real version of ``model`` trained on the bundled training file, as a version dir."""
    directory.mkdir(parents=True)
    meta = train_model(TrainRequest("regression", model, TRAIN, directory, dict(params))).meta
    (directory / "meta.json").write_text(json.dumps(meta))
    return directory


def engine(serving: str) -> RegressionEngine:
    eng = RegressionEngine(TRAIN, TRAIN)
    eng.serving = serving
    return eng


def training_windows() -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(TRAIN, WINDOW + 1)[:, :WINDOW]


def both_paths(model: str, version_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of the framework and the fast path on every training window."""
    framework = engine("framework").load(model, 1, version_dir)
    fast = engine("fast").load(model, 1, version_dir)
    assert (framework.serving, fast.serving) == ("framework", "fast")
    x = training_windows()
    return np.array([framework.predict(w) for w in x]), np.array([fast.predict(w) for w in x])


@pytest.mark.parametrize("model", ["linear", "svm", "naive"])
def test_the_fast_path_equals_scikit_learn_on_the_training_data(tmp_path: Path, model: str) -> None:
    reference, fast = both_paths(model, train_into(tmp_path / model, model))
    np.testing.assert_allclose(fast, reference, rtol=1e-6, atol=0)


def test_the_default_path_is_fast_and_a_policy_can_choose_the_framework() -> None:
    assert RegressionEngine(TRAIN, TRAIN).serving == "fast"
    assert policy_from_mapping({}).serving == "fast"
    assert policy_from_mapping({"serving": "framework"}).serving == "framework"
    with pytest.raises(PolicyError, match=r"p.toml: serving: must be one of fast, framework"):
        policy_from_mapping({"serving": "onnx"}, "p.toml")


POLICY = """
name = "paths"
engine = "regression"
models = ["linear"]
start_model = "linear"
{serving}
[switch]
enabled = false
[drift]
enabled = false
"""


@pytest.mark.parametrize("serving", ["fast", "framework", None])
def test_a_run_uses_the_policys_path_and_its_summary_says_which(
    tmp_path: Path, serving: str | None
) -> None:
    text = POLICY.format(serving=f'serving = "{serving}"' if serving else "")
    runtime = NewRun(
        RunSettings(data_dir=tmp_path / "data", steps=50),
        parse_policy(text, "p.toml"),
        "p.toml",
        text,
    )
    summary = asyncio.run(runtime.run())
    assert summary["serving"] == (serving or "fast")
    loaded = runtime.slots.loaded[("linear", 1)]
    assert loaded.serving == (serving or "fast")


def test_without_onnx_runtime_the_lstm_fast_path_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engines.regression import lstm_onnx

    monkeypatch.setattr(lstm_onnx, "onnx_missing", lambda: ["onnxruntime"])
    policy, source, text = resolve_policy("single-lstm")
    runtime = NewRun(RunSettings(data_dir=tmp_path / "d", steps=10), policy, source, text)
    with pytest.raises(
        EngineError,
        match=r"fast path needs onnxruntime, not installed: pip"
        r" install 'harmone-tui\[lstm\]', or set serving",
    ):
        asyncio.run(runtime.prepare())
    assert engine("framework").unavailable("lstm") is None


def test_a_linear_model_of_the_wrong_width_is_refused_at_load_on_both_paths(
    tmp_path: Path,
) -> None:
    """scikit-learn would only fail at the first predict, in the middle of a run."""
    from sklearn.linear_model import Ridge

    version = train_into(tmp_path / "linear", "linear")
    (version / "model.pkl").write_bytes(pickle.dumps(Ridge().fit(np.eye(3), np.arange(3.0))))
    for serving in ("fast", "framework"):
        with pytest.raises(EngineError, match=r"model.pkl: .* 3 inputs, not 5"):
            engine(serving).load("linear", 1, version)


@pytest.mark.slow
@pytest.mark.lstm
def test_the_lstm_through_onnx_runtime_equals_the_keras_call(trained_lstm: Path) -> None:
    reference, fast = both_paths("lstm", trained_lstm)
    np.testing.assert_allclose(fast, reference, rtol=1e-6, atol=0)
    extreme = np.array([1e95, -1e95, 0.0, 3e7, 1e100])  # clipped the same way on both paths
    framework, fast_path = (engine(s).load("lstm", 1, trained_lstm) for s in ("framework", "fast"))
    assert fast_path.predict(extreme) == pytest.approx(framework.predict(extreme), rel=1e-6)


@pytest.mark.slow
@pytest.mark.lstm
def test_a_keras_network_the_fast_path_does_not_cover_is_refused_by_name(tmp_path: Path) -> None:
    from engines.regression.lstm import MODEL_FILE, import_tensorflow

    tf = import_tensorflow()
    other = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(WINDOW, 1)),
            tf.keras.layers.LSTM(4, return_sequences=True),
            tf.keras.layers.LSTM(4),
            tf.keras.layers.Dense(1),
        ]
    )
    version = tmp_path / "lstm"
    version.mkdir()
    other.save(version / MODEL_FILE)
    (version / "meta.json").write_text(json.dumps({"scaler": {"min": 0.0, "max": 10.0}}))
    with pytest.raises(EngineError, match=r"model.keras: .*serving = \"framework\""):
        engine("fast").load("lstm", 1, version)
    assert engine("framework").load("lstm", 1, version).serving == "framework"
