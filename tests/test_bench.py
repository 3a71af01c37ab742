"""`harmone bench`: a tiny real sweep (2 scenarios × 2 policies × 2 seeds, a few hundred steps),
its table, regret and oracle, and the same table from the local pool and from Ray."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from harmone_tui.bench_scenarios import resolve_scenarios
from harmone_tui.settings import RunSettings
from tests.mape.helpers import run_cli

# Switches between linear and naive every 50 steps, half of the time at random: its runs depend
# on the seed. beta = 1 and no energy budget: no decision depends on measured energy, so a seed
# gives the same run wherever it runs.
EXPLORER = """
name = "explorer"
engine = "regression"
models = ["linear", "naive"]
start_model = "naive"
seed = 3
[score]
beta = 1.0
initial = { linear = 0.5, naive = 0.5 }
[switch]
every_steps = 50
window_steps = 50
min_score = 0.99
explore = 0.5
min_dwell_steps = 0
energy_budget = 1.0
[drift]
enabled = false
"""
DETERMINISTIC = ("r2", "mae", "switches", "retrains", "reuses", "drifts", "steps")


def sweep(tmp_path: Path, ray: str | None = None, jobs: int = 2) -> dict[str, Any]:
    from harmone_tui.commands.bench import bench
    from harmone_tui.commands.compare import resolve_all

    policy = tmp_path / "explorer.toml"
    policy.write_text(EXPLORER)
    entries = resolve_all([str(policy), "single-linear"], tmp_path / "policies")
    out = tmp_path / ("ray" if ray is not None else "local")
    settings = RunSettings(data_dir=tmp_path / "data", steps=400, j_per_cpu_s=10.0)
    scenarios = resolve_scenarios("stuck,recurring")
    return bench(scenarios, entries, out, settings, seeds=2, jobs=jobs, ray=ray)


def test_bench_cli_writes_the_table_the_runs_and_the_picture(tmp_path: Path) -> None:
    policy = tmp_path / "explorer.toml"
    policy.write_text(EXPLORER)
    done = run_cli(
        "bench",
        "--scenarios",
        "stuck,recurring",
        "--policies",
        f"{policy},single-linear",
        "--seeds",
        "2",
        "--steps",
        "400",
        "--jobs",
        "2",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (out,) = (tmp_path / "out").glob("bench-*")
    assert {p.name for p in out.iterdir()} == {
        "bench.csv",
        "bench_runs.csv",
        "bench.json",
        "bench.png",
        "runs",
    }
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = list(csv.DictReader((out / "bench_runs.csv").open()))
    assert len(runs) == 2 * 2 * 2 and {int(r["steps"]) for r in runs} == {400}
    # every run's energy is measured (in J: inference, and training where there was some)
    assert all(0 < float(r["inference_j"]) <= float(r["energy_j"]) * (1 + 1e-9) for r in runs), [
        (r["policy"], r["inference_j"], r["energy_j"]) for r in runs
    ]
    # the explorer's two seeds made different runs; single-linear has nothing random
    for scenario in ("stuck", "recurring"):
        mine = [r for r in runs if r["scenario"] == scenario]
        explorer = {r["seed"]: r for r in mine if r["policy"] == "explorer"}
        assert set(explorer) == {"3", "4"}
        assert explorer["3"]["r2"] != explorer["4"]["r2"]
        linear = [r["r2"] for r in mine if r["policy"] == "single-linear"]
        assert linear[0] == linear[1]
    table = json.loads((out / "bench.json").read_text())
    for scenario in ("stuck", "recurring"):
        rows = {r["policy"]: r for r in table["table"] if r["scenario"] == scenario}
        assert set(rows) == {"explorer", "single-linear", "oracle"}
        best = [p for p, r in rows.items() if r.get("best")]
        assert len(best) == 1 and rows[best[0]]["r2_gap"] == 0.0
        for r in rows.values():
            assert r["best_policy"] == best[0]
            assert r["r2_gap"] == pytest.approx(rows[best[0]]["r2"] - r["r2"])
            assert r["energy_j"] > 0 and r["energy_ratio"] > 0
        # linear is the better model on clean traffic: the explorer, half on naive, trails it
        assert best == ["single-linear"] and rows["explorer"]["r2_gap"] > 0.005
        oracle = table["oracles"][scenario]
        # the oracle's fixed linear is the single-linear run, prediction for prediction
        assert oracle["models"]["linear"]["r2"] == pytest.approx(rows["single-linear"]["r2"])
        assert oracle["r2"] >= max(m["r2"] for m in oracle["models"].values())
        assert rows["oracle"]["headroom"] == pytest.approx(oracle["r2"] - rows[best[0]]["r2"])
    means = {r["policy"]: r for r in table["means"]}
    assert means["single-linear"]["best_in"] == 2
    assert "explorer" in done.stdout and "mean over scenarios" in done.stdout
    assert (out / "runs" / "recurring" / "explorer-seed4" / "knowledge.sqlite3").exists()


def test_bench_refuses_an_unknown_scenario_in_one_line(tmp_path: Path) -> None:
    done = run_cli("bench", "--scenarios", "stuck,nosuch", "--data-dir", str(tmp_path), timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "harmone: error: --scenarios: 'nosuch' is neither a file, a directory"
        " nor a bundled scenario"
    )
    assert "Traceback" not in done.stderr and not (tmp_path / "exports").exists()


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_bench_on_ray_without_ray_says_how_to_get_it(tmp_path: Path) -> None:
    done = run_cli(
        "bench", "--scenarios", "stuck", "--ray", "--data-dir", str(tmp_path), timeout=300
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--ray needs Ray" in done.stderr and "harmone-tui[ray]" in done.stderr
    assert not (tmp_path / "exports").exists()  # refused before anything was trained or written


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_bench_on_a_ray_address_where_nothing_answers_is_refused_at_once(tmp_path: Path) -> None:
    """ray.init would retry such an address without end; the probe refuses it in one line."""
    done = run_cli(
        "bench",
        "--scenarios",
        "stuck",
        "--ray",
        "127.0.0.1:1",
        "--data-dir",
        str(tmp_path),
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--ray 127.0.0.1:1: nothing answers at 127.0.0.1:1" in done.stderr
    assert not (tmp_path / "exports").exists()


def test_the_same_seeds_give_the_same_table_on_ray_and_in_the_pool(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    local = sweep(tmp_path, jobs=1)
    ray.init(num_cpus=1, include_dashboard=False)
    try:
        remote = sweep(tmp_path, ray="")
    finally:
        ray.shutdown()

    def key(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (r["scenario"], r["policy"], r["seed"], *(r[k] for k in DETERMINISTIC)) for r in rows
        )

    assert key(remote["runs"]) == key(local["runs"])
    assert len({r["r2"] for r in local["runs"] if r["policy"] == "explorer"}) == 2  # seeds count
    for scenario, oracle in local["oracles"].items():
        assert remote["oracles"][scenario]["choice"] == oracle["choice"]
        assert remote["oracles"][scenario]["r2"] == oracle["r2"]


def test_only_policies_that_never_adapt_are_candidates_for_the_best_fixed_one() -> None:
    from harmone_tui.commands.bench_sweep import is_fixed
    from mape.policy_file import parse_policy, preset_text

    names = [
        "naive",
        "single-linear",
        "single-lstm+retrain",  # a retraining schedule, no reaction to the stream
        "single-svm+retrain",
        "switch",
        "switch+retrain",
        "harmone",
    ]
    fixed = {n: is_fixed(parse_policy(preset_text(n), n)) for n in names}
    assert fixed == {
        "naive": True,
        "single-linear": True,
        "single-lstm+retrain": True,
        "single-svm+retrain": True,
        "switch": False,
        "switch+retrain": False,
        "harmone": False,
    }
