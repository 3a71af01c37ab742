"""The drift-scenario library: files the engine reads, labels that match the manifest, faults that
are what they say, and a build that gives the same bytes again.

The committed library is checked as shipped; the builder is also run here on the one raw PeMS
week in tests/data (durations scaled down), so its positions are seen to come from the data.
"""

from __future__ import annotations

import hashlib
import json
import os
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engines.base import EngineError
from engines.regression.data import read_series
from scripts.make_scenarios import OUT, main, run
from scripts.scenario_faults import Layout
from scripts.scenario_readme import table
from scripts.scenario_source import read_pool
from tests.conftest import RAW_PEMS_WEEK, REPO

MANIFEST = json.loads((OUT / "scenarios.json").read_text())
ENTRIES = {e["name"]: e for e in MANIFEST["scenarios"]}
SMALL = ["stuck", "dropouts", "noise", "lane_closure", "lane_swap", "speed_swap", "recurring"]


def frame(name: str) -> pd.DataFrame:
    return pd.read_csv(OUT / ENTRIES[name]["file"], keep_default_na=False, na_values=[""])


def rows_of(item: dict, regime: str) -> np.ndarray:
    parts = [np.arange(s["start"], s["end"]) for s in item["segments"] if s["regime"] == regime]
    return np.concatenate(parts) if parts else np.array([], dtype=int)


def shared_weeks() -> Path | None:
    for candidate in (
        os.environ.get("HARMONE_PEMS_DIR"),
        REPO.parent / "shared" / "data" / "pems",
        REPO.parent.parent / "shared" / "data" / "pems",
    ):
        if candidate and (Path(candidate) / "week1.csv").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library built from tests/data's raw week at a fifth of the durations."""
    out = tmp_path_factory.mktemp("small")
    run(["--weeks", str(RAW_PEMS_WEEK), "--out", str(out), "--scale", "0.2", "--only", *SMALL])
    return out


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_file_is_a_stream_the_engine_reads_with_the_manifests_segments(name: str) -> None:
    item = ENTRIES[name]
    data = frame(name)
    path = OUT / item["file"]
    assert list(data.columns) == ["timestamp", "flow", "regime", "true_flow"]
    assert len(data) == item["rows"] and 2_000 <= item["rows"] <= 10_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
    spans = [(s["start"], s["end"]) for s in item["segments"]]
    assert spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in pairwise(spans))
    expected = np.concatenate([[s["regime"]] * (s["end"] - s["start"]) for s in item["segments"]])
    assert (data["regime"].to_numpy() == expected).all()
    clean = data["regime"] == "clean"
    assert (data.loc[clean, "flow"] == data.loc[clean, "true_flow"]).all()
    blanks = np.flatnonzero(data["flow"].isna().to_numpy())
    try:
        values = read_series(path, "flow")
    except EngineError as exc:  # a reader without a gap policy refuses the first blank cell
        assert len(blanks) and f"row {blanks[0] + 2}," in str(exc)
    else:
        assert len(values) in (len(data), len(data) - len(blanks))
        assert np.array_equal(
            values[: blanks[0] if len(blanks) else None],
            data["flow"].to_numpy()[: blanks[0] if len(blanks) else None],
        )


def test_a_stuck_sensor_reports_one_constant_the_last_reading_before_it() -> None:
    data, rows = frame("stuck"), rows_of(ENTRIES["stuck"], "stuck")
    stuck = data["flow"].to_numpy()[rows]
    assert len(rows) >= 288 and (stuck == stuck[0]).all()
    assert stuck[0] == data["flow"][rows[0] - 1] == ENTRIES["stuck"]["params"]["value"]
    assert data["true_flow"].to_numpy()[rows].std() > 10  # the traffic went on moving


def test_dropouts_are_blank_exactly_on_the_dropout_rows() -> None:
    item = ENTRIES["dropouts"]
    data = frame("dropouts")
    blank = data["flow"].isna().to_numpy()
    assert np.array_equal(np.flatnonzero(blank), rows_of(item, "dropout"))
    assert blank.sum() == item["params"]["blank_rows"] and not data["true_flow"].isna().any()
    assert item["params"]["imputed_rows"] > 0  # the real weeks' `% Observed` < 100 rows are used


def test_noise_bursts_change_readings_only_inside_bursts() -> None:
    data = frame("noise")
    noisy = (data["regime"] == "noise").to_numpy()
    differs = (data["flow"] != data["true_flow"]).to_numpy()
    assert not differs[~noisy].any() and differs[noisy].mean() > 0.5
    assert (data["flow"] / data["true_flow"]).max() > 1.8  # over-counts, not only jitter


def test_ramp_gain_rises_to_its_end_value_and_stays() -> None:
    data, item = frame("ramp"), ENTRIES["ramp"]
    gain = (data["flow"] / data["true_flow"]).to_numpy()
    ramp, held = rows_of(item, "ramp"), rows_of(item, "drifted")
    smooth = pd.Series(gain[ramp]).rolling(48).median().dropna().to_numpy()
    assert smooth[0] < 1.2 and np.all(np.diff(smooth) > -0.05)
    assert np.allclose(gain[held][data["true_flow"].to_numpy()[held] >= 20], 2.0, atol=0.01)


def test_weekend_labels_follow_the_calendar() -> None:
    data = frame("weekend")
    day = pd.to_datetime(data["timestamp"]).dt.dayofweek
    assert ((day >= 5) == (data["regime"] == "weekend")).all()
    holidays = ENTRIES["weekend"]["params"]["holidays"]
    dates = pd.to_datetime(data["timestamp"]).dt.strftime("%Y-%m-%d")
    assert (dates.isin(holidays) == (data["regime"] == "holiday")).all()


def test_recurring_alternates_a_b_a_b_a_with_the_same_b() -> None:
    item = ENTRIES["recurring"]
    assert [s["regime"] for s in item["segments"]] == ["clean", "speed_swap"] * 2 + ["clean"]
    first, second = item["segments"][1], item["segments"][3]
    assert first["end"] - first["start"] == second["end"] - second["start"]
    assert item["segments"][2]["end"] - item["segments"][2]["start"] > 2_667  # past a cool-down


def test_lane_faults_and_speed_swap_use_the_raw_columns(small: Path) -> None:
    """Built from a raw week: total minus one lane, another lane, speed scaled into range."""
    raw = pd.read_csv(RAW_PEMS_WEEK).set_index("5 Minutes")
    entries = json.loads((small / "scenarios.json").read_text())["scenarios"]
    manifest = {e["name"]: e for e in entries}
    total = "Flow (Veh/5 Minutes)"

    def lane(p: dict) -> str:
        return f"Lane {p['lane']} Flow (Veh/5 Minutes)"

    for name, expected in (
        ("lane_closure", lambda r, p: r[total] - r[lane(p)]),
        ("lane_swap", lambda r, p: r[lane(p)]),
        ("speed_swap", lambda r, p: (r["Speed (mph)"] * p["factor"]).round(1)),
    ):
        data = pd.read_csv(small / f"{name}.csv")
        fault = data[data["regime"] == name]
        assert len(fault) > 100
        source = raw.loc[fault["timestamp"]]
        want = expected(source, manifest[name]["params"]).to_numpy()
        assert np.allclose(fault["flow"].to_numpy(), want)
        assert np.array_equal(fault["true_flow"].to_numpy(), source[total].to_numpy())
    assert manifest["lane_swap"]["params"]["lane"] != manifest["lane_closure"]["params"]["lane"]


def test_the_build_is_byte_identical_on_a_rerun(small: Path, tmp_path: Path) -> None:
    run(["--weeks", str(RAW_PEMS_WEEK), "--out", str(tmp_path), "--scale", "0.2", "--only", *SMALL])
    for name in [*SMALL, "scenarios"]:
        suffix = ".json" if name == "scenarios" else ".csv"
        file = f"{name}{suffix}"
        assert (tmp_path / file).read_bytes() == (small / file).read_bytes()


def test_the_committed_library_rebuilds_identically_from_the_pems_weeks(tmp_path: Path) -> None:
    weeks = shared_weeks()
    if weeks is None:
        pytest.skip("the PeMS weeks are not here (set HARMONE_PEMS_DIR)")
    rebuilt = run(["--weeks", str(weeks), "--out", str(tmp_path)])
    for item in rebuilt["scenarios"]:
        assert (tmp_path / item["file"]).read_bytes() == (OUT / item["file"]).read_bytes()
        assert {k: v for k, v in ENTRIES[item["name"]].items() if k != "hurt"} == item


def test_positions_come_from_the_data_not_from_row_numbers() -> None:
    train = read_series(REPO / "sample_data" / "flow_train.csv")
    pool = read_pool([RAW_PEMS_WEEK], train)
    assert pool.skipped_train_rows == 0  # week 3 does not hold the training rows
    assert pool.stamps[0] == "2019-03-15 00:00:00" and pool.midnights()[0] == 0
    assert MANIFEST["source"]["rows_left_out"] == len(train)  # week 1 does: found by content
    assert Layout(0.2).rows(10) == 576


def test_every_scenario_hurts_a_model_and_the_readme_shows_the_figures() -> None:
    for item in MANIFEST["scenarios"]:
        assert "hurt" in item, f"{item['name']}: no recorded figures (run with --measure)"
        assert any(f["hurts"] for f in item["hurt"]["faults"].values()), item["name"]
    assert table(MANIFEST) in (REPO / "sample_data" / "README.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weeks", "no/such/week.csv"], "--weeks no/such/week.csv: file not found"),
        (["--weeks", "{flow_train}"], "not a PeMS station export: missing '5 Minutes'"),
        (["--weeks", "{week}", "--only", "recurring"], "scenario 'recurring' needs 9792 rows"),
        (["--weeks", "{week}", "--scale", "0"], "--scale 0.0: must be above 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {"flow_train": str(REPO / "sample_data" / "flow_train.csv"), "week": str(RAW_PEMS_WEEK)}
    argv = [a.format(**paths) for a in args] + ["--out", str(tmp_path)]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_hurt_is_measured_with_the_engines_models_on_the_regime_rows(
    small: Path, tmp_path: Path
) -> None:
    """The naive model (no fitting) through the engine: R² 0 on a frozen stream, real figures."""
    from engines.base import TrainRequest
    from engines.metrics import r2
    from engines.regression.engine import RegressionEngine
    from engines.regression.training import train_model
    from scripts.scenario_hurt import measure

    train = read_series(REPO / "sample_data" / "flow_train.csv")
    result = train_model(TrainRequest("regression", "naive", train, tmp_path))
    (tmp_path / "meta.json").write_text(json.dumps(result.meta))
    naive = RegressionEngine(train, train).load("naive", 1, tmp_path)
    data = pd.read_csv(small / "stuck.csv")
    flow, true = data["flow"].to_numpy(float), data["true_flow"].to_numpy(float)
    regime = data["regime"].to_numpy(object)
    figures = measure(flow, true, regime, {"naive": naive}, train)
    stuck = figures["faults"]["stuck"]
    assert stuck["models"]["naive"]["r2"] == 0.0  # a constant truth scores 0
    rows = np.flatnonzero(regime == "stuck")
    assert stuck["models"]["naive"]["r2_true"] == round(r2(true[rows], flow[rows - 1]), 3)
    clean = [i for i in range(5, len(flow)) if (regime[i - 5 : i + 1] == "clean").all()]
    assert figures["clean"]["naive"] == round(r2(flow[clean], flow[np.array(clean) - 1]), 3)
    assert stuck["hurts"] == ["naive"]
