"""A model trained outside harmone, imported with `models import regression`, runs in real runs:
switched to, never retrained (the policy's ``retrain.untrainable`` says what instead), and refused
before anything is stored when the file or its settings are wrong."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from harmone_tui.cli import main
from mape.knowledge import KnowledgeStore
from tests.conftest import PEMS_STREAM, SAMPLE

WINDOW = 8


def scaled_training_windows(window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """The bundled training file min-max scaled, as (inputs, next value) windows."""
    import pandas as pd

    values = pd.read_csv(SAMPLE / "flow_train.csv")["flow"].to_numpy(float)
    scaled = (values - values.min()) / (values.max() - values.min())
    view = np.lib.stride_tricks.sliding_window_view(scaled, window + 1)
    return view[:, :window], view[:, window]


@pytest.fixture(scope="module")
def gbr_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.ensemble import GradientBoostingRegressor

    x, y = scaled_training_windows()
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0).fit(x, y)
    path = tmp_path_factory.mktemp("gbr") / "gbr.pkl"
    path.write_bytes(pickle.dumps(model))
    return path


def events(root: Path, run_id: int, kind: str) -> list[dict]:
    store = KnowledgeStore.open(root / "knowledge.sqlite3")
    try:
        return [e.detail for e in store.events(run_id) if e.kind == kind]
    finally:
        store.close()


def run(root: Path, policy: str, steps: int) -> dict:
    path = root / "policy.toml"
    path.write_text(policy)
    summary = root / "summary.json"
    argv = ["--no-ui", "--data", str(PEMS_STREAM), "--policy", str(path), "--steps", str(steps)]
    argv += ["--quiet", "--summary", str(summary), "--data-dir", str(root)]
    assert main(argv) == 0
    return json.loads(summary.read_text())


def test_a_pickle_needs_trust_and_nothing_is_stored_without_it(
    gbr_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "my_gbr"]
    assert main([*argv, str(gbr_file)]) == 2
    err = capsys.readouterr().err
    assert "loading a pickle runs the code it names" in err and "--trust" in err
    assert not (tmp_path / "models" / "regression" / "my_gbr").exists() or not any(
        (tmp_path / "models" / "regression" / "my_gbr").iterdir()
    )


def test_an_imported_gbr_is_checked_stored_and_switched_to(
    gbr_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "my_gbr"]
    assert main([*argv, str(gbr_file), "--trust"]) == 0
    assert "as regression my_gbr v1" in capsys.readouterr().out
    version = tmp_path / "models" / "regression" / "my_gbr" / "v1"
    meta = json.loads((version / "meta.json").read_text())
    assert meta["sha256"] == hashlib.sha256(gbr_file.read_bytes()).hexdigest()
    assert meta["imported"] == {"format": "sklearn", "window": WINDOW, "scaling": "minmax"}
    assert meta["validation_r2"] > 0.9  # predicted on every training window before storing

    # switched to: the score rule explores from linear to the only other model
    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["linear", "my_gbr"]\nstart_model = "linear"\n'
        "[switch]\nexplore = 1.0\nmin_score = 0.999\nmin_dwell_steps = 267\n"
        "[drift]\nenabled = false\n",
        1200,
    )
    switches = events(tmp_path, summary["run_id"], "switch")
    assert switches[0]["to"] == "my_gbr"
    assert summary["model_share"]["my_gbr"] > 0.2 and summary["r2"] > 0.85

    # never retrained: at the periodic retrain (step 3,333) it hands over to linear. (The drift at
    # step 3,660 keeps it: its own training data is the closest, see mape.plan.plan_drift.)
    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["my_gbr", "linear"]\nstart_model = "my_gbr"\n'
        "[switch]\nenabled = false\n[drift]\nenabled = false\n"
        '[retrain]\nuntrainable = "switch"\nevery_steps = 3333\n',
        4200,
    )
    handed = events(tmp_path, summary["run_id"], "switch")
    assert [(s["from"], s["to"]) for s in handed] == [("my_gbr", "linear")]
    assert "my_gbr has no trainer" in handed[0]["reason"]
    assert summary["retrains"] == 0

    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["my_gbr"]\nstart_model = "my_gbr"\n'
        '[drift]\nenabled = false\n[retrain]\nuntrainable = "skip"\nevery_steps = 3333\n',
        4200,
    )
    infos = events(tmp_path, summary["run_id"], "info")
    skipped = [e for e in infos if e.get("action") == "retrain_skipped"]
    assert len(skipped) == 1 and skipped[0]["model"] == "my_gbr"
    assert summary["model_share"] == {"my_gbr": 1.0} and summary["retrains"] == 0
    versions = sorted(p.name for p in version.parent.iterdir())
    assert versions == ["v1"]


def _onnx_linear(path: Path) -> None:
    """A least-squares forecaster fitted on the training windows, written as an ONNX graph."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x, y = scaled_training_windows(5)
    design = np.hstack([x, np.ones((len(x), 1))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    weights = numpy_helper.from_array(coef[:-1].reshape(5, 1).astype(np.float32), "w")
    bias = numpy_helper.from_array(coef[-1:].astype(np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def test_an_onnx_model_is_imported_without_trust_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "linear.onnx"
    _onnx_linear(path)
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "onnx_ls", str(path)]
    assert main(argv) == 0
    meta = json.loads((tmp_path / "models/regression/onnx_ls/v1/meta.json").read_text())
    assert meta["imported"]["window"] == 5 and meta["validation_r2"] > 0.9
    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["onnx_ls"]\nstart_model = "onnx_ls"\n'
        "[drift]\nenabled = false\n",
        2000,
    )
    assert summary["model_share"] == {"onnx_ls": 1.0} and summary["r2"] > 0.9


@pytest.mark.slow
@pytest.mark.lstm
def test_a_keras_model_is_imported_and_runs(tmp_path: Path) -> None:
    from engines.regression.lstm import import_tensorflow

    tf = import_tensorflow()
    tf.keras.utils.set_random_seed(3)
    x, y = scaled_training_windows(6)
    model = tf.keras.Sequential([tf.keras.Input(shape=(6,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, epochs=30, batch_size=64, verbose=0)
    path = tmp_path / "dense.keras"
    model.save(path)
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "dense", str(path)]
    assert main(argv) == 0
    meta = json.loads((tmp_path / "models/regression/dense/v1/meta.json").read_text())
    assert meta["imported"] == {"format": "keras", "window": 6, "scaling": "minmax"}
    assert meta["validation_r2"] > 0.8
    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["dense", "linear"]\nstart_model = "dense"\n'
        "[drift]\nenabled = false\n[switch]\nenabled = false\n",
        600,
    )
    assert summary["model_share"]["dense"] == 1.0 and summary["r2"] > 0.8


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--window", "3"], "the model takes 8 values, not --window 3"),
        (["--scale-min", "10", "--scale-max", "5"], "--scale-min 10 must be below --scale-max 5"),
    ],
)
def test_wrong_settings_are_refused_before_storing(
    gbr_file: Path,
    tmp_path: Path,
    extra: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "g", str(gbr_file)]
    assert main([*argv, "--trust", *extra]) == 2
    assert expected in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_file_that_is_not_a_model_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "model.onnx"
    bogus.write_text("not a graph")
    argv = ["--data-dir", str(tmp_path), "models", "import", "regression", "x", str(bogus)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "not a loadable onnx model" in err and "Traceback" not in err


def test_policy_check_knows_the_imported_models_of_its_data_dir(
    gbr_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('engine = "regression"\nmodels = ["linear", "g"]\nstart_model = "g"\n')
    check = ["policy", "check", str(policy)]
    assert main(["--data-dir", str(tmp_path / "empty"), *check]) == 2
    assert "unknown model 'g' for engine 'regression'" in capsys.readouterr().err
    data = str(tmp_path / "d")
    assert (
        main(["--data-dir", data, "models", "import", "regression", "g", str(gbr_file), "--trust"])
        == 0
    )
    assert main(["--data-dir", data, *check]) == 0
    assert "ok (harmone: engine regression, models linear, g)" in capsys.readouterr().out


def _gbr_on(values: np.ndarray, path: Path) -> None:
    """A GradientBoostingRegressor on ``values`` min-max scaled (the import's default scaling)."""
    from sklearn.ensemble import GradientBoostingRegressor

    scaled = (values - values.min()) / (values.max() - values.min())
    view = np.lib.stride_tricks.sliding_window_view(scaled, WINDOW + 1)
    model = GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0)
    path.write_bytes(pickle.dumps(model.fit(view[:, :WINDOW], view[:, WINDOW])))


def test_imported_versions_are_reused_on_drift(tmp_path: Path) -> None:
    """Two imports of one model, each checked on its own data: after the bundled stream's drift
    (detected at step 3,660) the loop reuses the version whose training data is closest."""
    import pandas as pd

    stream = pd.read_csv(PEMS_STREAM)["flow"].to_numpy(float)
    later = tmp_path / "later.csv"
    pd.DataFrame({"flow": stream[4300:5800]}).to_csv(later, index=False)
    train = pd.read_csv(SAMPLE / "flow_train.csv")["flow"].to_numpy(float)
    _gbr_on(stream[4300:5800], tmp_path / "later.pkl")
    _gbr_on(train, tmp_path / "early.pkl")
    base = ["--data-dir", str(tmp_path), "models", "import", "regression", "g"]
    assert main([*base, str(tmp_path / "later.pkl"), "--trust", "--train", str(later)]) == 0
    assert main([*base, str(tmp_path / "early.pkl"), "--trust"]) == 0  # v2: the start version
    summary = run(
        tmp_path,
        'engine = "regression"\nmodels = ["g"]\nstart_model = "g"\n[switch]\nenabled = false\n'
        "[drift]\nsettle_steps = 600\n",
        4600,
    )
    reuses = events(tmp_path, summary["run_id"], "reuse")
    assert [(r["model"], r["version"]) for r in reuses] == [("g", 1)], events(
        tmp_path, summary["run_id"], "info"
    )
    assert summary["retrains"] == 0


def test_a_model_on_raw_values_is_imported_with_scaling_none(tmp_path: Path) -> None:
    """--scaling none: raw values in, raw values out (stored as the identity scaler); the same
    file under minmax scaling predicts in the wrong units, which the import's R² shows."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    values = pd.read_csv(SAMPLE / "flow_train.csv")["flow"].to_numpy(float)
    view = np.lib.stride_tricks.sliding_window_view(values, 4)
    path = tmp_path / "raw.joblib"
    import joblib

    joblib.dump(LinearRegression().fit(view[:, :3], view[:, 3]), path)
    base = ["--data-dir", str(tmp_path), "models", "import", "regression"]
    assert main([*base, "raw", str(path), "--trust", "--scaling", "none"]) == 0
    meta = json.loads((tmp_path / "models/regression/raw/v1/meta.json").read_text())
    assert meta["scaler"] == {"min": 0.0, "max": 1.0} and meta["imported"]["window"] == 3
    assert meta["validation_r2"] > 0.9
    assert main([*base, "raw_minmax", str(path), "--trust"]) == 0
    wrong = json.loads((tmp_path / "models/regression/raw_minmax/v1/meta.json").read_text())
    assert wrong["validation_r2"] < meta["validation_r2"] - 0.05
