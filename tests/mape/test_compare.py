"""`harmone compare` on a short real stream: one table, written as CSV and Markdown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harmone_tui.ledger_report import STAGES
from tests.mape.helpers import run_cli

COLUMNS = [
    "policy",
    "r2",
    "mae",
    "mean_confidence",
    "energy_j_per_inference",
    "energy_source",
    "energy_j_per_inference_incl_retrain",
    "energy_j_total",
    "carbon_g_total",
    *(f"energy_j_{stage}" for stage in STAGES),
    "latency_ms_mean",
    "latency_ms_p95",
    "switches",
    "retrains",
    "reuses",
    "drifts",
    "errors",
    "steps",
    "wall_s",
    "retrain_energy_j",
]


@pytest.mark.slow
@pytest.mark.lstm
def test_compare_writes_csv_and_markdown_with_every_column(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    done = run_cli(
        "compare",
        "--steps",
        "1500",
        "--policies",
        "naive,single-linear,switch",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    (out,) = (tmp_path / "out").glob("compare-*")  # a new directory of its own under --out
    rows = list(csv.DictReader((out / "compare.csv").open()))
    header = list(rows[0].keys())
    assert header[: len(COLUMNS)] == COLUMNS
    assert {"share_naive", "share_linear", "share_svm", "share_lstm"} <= set(header)
    assert [r["policy"] for r in rows] == ["naive", "single-linear", "switch"]
    for r in rows:
        assert int(r["steps"]) == 1500 and 0.5 < float(r["r2"]) < 1.0
        assert (
            r["energy_source"] in ("rapl", "estimated") and float(r["energy_j_per_inference"]) > 0
        )
    assert float(rows[1]["share_linear"]) == 1.0 and float(rows[0]["share_naive"]) == 1.0
    assert float(rows[2]["share_lstm"]) > 0  # switch starts on the LSTM
    lstm = float(rows[2]["energy_j_per_inference"])
    assert lstm > float(rows[0]["energy_j_per_inference"])  # persistence costs ~nothing
    md = (out / "compare.md").read_text().splitlines()
    assert md[0].startswith("| policy | R² | MAE | energy/inf | source |") and len(md) == 2 + 3
    assert md[3].startswith("| single-linear |")
    assert "single-linear" in done.stdout and "R²" in done.stdout  # the table on stdout
    assert "energy by stage" in done.stdout  # and the energy of each policy by ledger stage
    for r in rows:  # the ledger's total holds every stage, the inference stage among them
        stages = sum(float(r[f"energy_j_{stage}"]) for stage in STAGES)
        assert stages == pytest.approx(float(r["energy_j_total"]), rel=1e-6)
        assert float(r["carbon_g_total"]) > 0
    assert "[3/3] switch: done" in done.stderr  # progress on stderr
    # every policy ran from the same first versions, each in its own store
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "_base",
        "naive",
        "single-linear",
        "switch",
    ]


def test_compare_repeat_gives_mean_and_spread_and_marks_what_is_noise(tmp_path: Path) -> None:
    import json
    import math
    from statistics import fmean, stdev

    done = run_cli(
        "compare", "--repeat", "3", "--steps", "1200", "--policies",
        "naive,single-linear,single-svm", "--data-dir", str(tmp_path / "data"),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (out,) = (tmp_path / "out").glob("compare-*")
    rows = list(csv.DictReader((out / "compare.csv").open()))
    runs = list(csv.DictReader((out / "compare-runs.csv").open()))
    assert [r["policy"] for r in rows] == ["naive", "single-linear", "single-svm"]
    assert [r["policy"] for r in runs] == ["naive", "single-linear", "single-svm"] * 3  # rounds
    assert sorted(p.name for p in (out / "runs" / "single-svm").iterdir()) == [
        "run-1",
        "run-2",
        "run-3",
    ]
    for row in rows:
        mine = [float(r["energy_j_per_inference"]) for r in runs if r["policy"] == row["policy"]]
        assert int(row["n_runs"]) == 3
        assert float(row["energy_j_per_inference"]) == pytest.approx(fmean(mine))
        assert float(row["energy_j_per_inference_sd"]) == pytest.approx(stdev(mine))
        assert float(row["r2_sd"]) == 0.0  # a seeded policy predicts the same every run
    report = json.loads((out / "compare.json").read_text())
    assert report["settings"]["repeat"] == 3 and len(report["runs"]) == 9
    by_name = {r["policy"]: r for r in report["rows"]}
    judged = {(p["figure"], p["a"], p["b"]): p for p in report["noise"]}
    assert len(judged) == 2 * 3  # energy and R² for each of the 3 pairs
    for (figure, a, b), pair in judged.items():
        ra, rb = by_name[a], by_name[b]
        noise = 2 * math.sqrt(ra[f"{figure}_sd"] ** 2 / 3 + rb[f"{figure}_sd"] ** 2 / 3)
        assert pair["noise"] == pytest.approx(noise)
        assert pair["within_noise"] == (abs(ra[figure] - rb[figure]) <= noise)
        mark = rb["policy"] in ra[f"{figure}_within_noise_of"].split(";")
        assert mark == pair["within_noise"]
    # R² has no spread: naive (persistence) and the models differ for real
    assert not judged[("r2", "naive", "single-linear")]["within_noise"]
    assert "within the noise when |Δ mean| ≤ 2·SE" in done.stdout
    assert "±sd" in done.stdout.splitlines()[0]
