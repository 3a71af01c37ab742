"""`--metrics-port`: a Prometheus endpoint scraped during a real run (real models, real HTTP),
whose counters agree with the run's own figures; a taken port is one clear line."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harmone_tui import metrics as metrics_module
from harmone_tui.carbon import CarbonFactors
from harmone_tui.ledger_report import STAGES
from harmone_tui.runtime import Runtime
from harmone_tui.settings import RunSettings
from harmone_tui.snapshot import RunListener, RunSnapshot
from mape.policy_file import parse_policy
from tests.conftest import harmone_cmd, subprocess_env
from tests.headless_runs import FLIPPING


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_scraped_mid_run_match_the_runs_own_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "LEDGER_EVERY_S", 0.0)  # the ledger read every batch
    carbon = CarbonFactors(100.0, 1.5, "test", "test")
    settings = RunSettings(
        data_dir=tmp_path / "d", steps=900, speed=3000.0, metrics_port=0, carbon=carbon
    )
    seen: list[tuple[dict, int, float, dict[str, int], tuple[str, int]]] = []
    ledger_j: list[float] = []
    runs: list[Runtime] = []

    class Scraper(RunListener):
        url = ""

        def progress(self, text: str) -> None:
            if text.startswith("metrics on "):
                self.url = text.removeprefix("metrics on ")

        def snapshot(self, snap: RunSnapshot) -> None:
            if seen or snap.step < 450:
                return
            tel = snap.info.telemetry
            tel.catch_up()  # the aggregates are brought up to date when read
            counts = dict(zip(tel.models, tel.totals.counts.tolist(), strict=True))
            active = (snap.active_model, snap.active_version)
            energy_j = tel.totals.total("energy_mj") / 1e3
            seen.append((scrape(self.url), snap.step, energy_j, counts, active))
            ledger_j.append(runs[0].ledger.report().total_j)

    scraper = Scraper()

    async def scenario() -> dict:
        policy = parse_policy(FLIPPING, "flipping")
        runtime = await Runtime.create(settings, policy, "flipping", FLIPPING, [scraper])
        runs.append(runtime)
        return await runtime.run()

    summary = asyncio.run(scenario())
    assert summary["status"] == "finished" and summary["switches"] >= 2
    (metrics, step, energy_j, counts, active) = seen[0]
    assert 450 <= step < 900  # scraped while the run went on
    assert metrics[("harmone_step", ())] == step
    inferences = {
        labels[0][1]: value
        for (name, labels), value in metrics.items()
        if name == "harmone_inferences_total"
    }
    assert inferences == {m: float(n) for m, n in counts.items() if n}
    assert sum(inferences.values()) == step
    energy = {
        tuple(dict(labels)[k] for k in ("stage", "model", "version", "source")): value
        for (name, labels), value in metrics.items()
        if name == "harmone_energy_joules_total"
    }
    assert {source for *_, source in energy} == {"estimated"}
    assert {stage for stage, *_ in energy} <= set(STAGES)
    assert {"inference", "mape", "startup"} <= {stage for stage, *_ in energy}
    inference = {(m, v): j for (stage, m, v, _), j in energy.items() if stage == "inference"}
    assert {m for m, _ in inference} == {m for m, n in counts.items() if n}
    assert sum(inference.values()) == pytest.approx(energy_j, rel=1e-9) and energy_j > 0
    counted = sum(energy.values())
    assert counted > energy_j  # the loop, the store and start-up cost something too
    assert counted == pytest.approx(ledger_j[0], rel=0.05)  # every joule once, none twice
    grams = metrics[("harmone_carbon_grams", ())]
    assert grams == pytest.approx(counted / 3.6e6 * 100.0 * 1.5, rel=0.05)  # the factors given
    model, version = active
    assert metrics[("harmone_active_model", (("model", model), ("version", str(version))))] == 1
    assert sum(1 for name, _ in metrics if name == "harmone_active_model") == 1
    assert metrics[("harmone_adaptations_total", (("kind", "switch"),))] >= 2
    r2 = metrics[("harmone_quality", (("metric", "r2"),))]
    assert -1.0 <= r2 <= 1.0
    info = [labels for name, labels in metrics if name == "harmone_run_info"]
    assert dict(info[0])["run_id"] == str(summary["run_id"])
    assert dict(info[0])["mode"] == "headless"
    with pytest.raises(urllib.error.URLError):  # the endpoint closes with the run
        scrape(scraper.url)


def test_a_taken_metrics_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            harmone_cmd(
                "--no-ui", "--steps", "10", "--policy", "single-linear",
                "--data-dir", str(tmp_path / "d"), "--metrics-port", str(port),
            ),
            capture_output=True, text=True, timeout=120, env=subprocess_env(),
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"harmone: error: --metrics-port {port}: cannot listen on 127.0.0.1:{port}"
        " (Address already in use)"
    )
    assert not (tmp_path / "d" / "knowledge.sqlite3").exists()  # nothing started
