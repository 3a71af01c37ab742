"""`harmone serve --metrics-port`: every served system's figures on a Prometheus endpoint,
scraped while telemetry arrives, agreeing with what was posted and decided."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serve.helpers import running
from tests.serve.streams import POLICY, batches, records


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url, timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_served_systems_metrics_match_their_records_and_decisions(tmp_path: Path) -> None:
    stream = records(1500)
    with running(tmp_path, metrics_port=0) as server, server.client() as http:
        (line,) = [x for x in server.lines if x.startswith("metrics on ")]
        url = line.removeprefix("metrics on ")
        assert url.startswith("http://127.0.0.1:")
        http.put("/v1/systems/a", json={"policy": POLICY})
        for batch in batches(stream[:700], 3):
            assert http.post("/v1/systems/a/telemetry", json={"records": batch}).status_code == 200
        mid = scrape(url)
        inferences = {
            dict(labels)["model"]: v
            for (name, labels), v in mid.items()
            if name == "harmone_inferences_total" and dict(labels)["system"] == "a"
        }
        posted: dict[str, int] = {}
        for r in stream[:700]:
            posted[r["model"]] = posted.get(r["model"], 0) + 1
        assert inferences == {m: float(n) for m, n in posted.items()}
        energy = sum(
            v
            for (name, labels), v in mid.items()
            if name == "harmone_energy_joules_total" and dict(labels)["source"] == "reported"
        )
        assert energy == pytest.approx(sum(r["energy_uj"] for r in stream[:700]) * 1e-6)
        assert mid[("harmone_step", (("system", "a"),))] == 700
        for batch in batches(stream[700:], 4):
            assert http.post("/v1/systems/a/telemetry", json={"records": batch}).status_code == 200
        end = scrape(url)
        events = http.get("/v1/systems/a/events", params={"limit": 10_000}).json()
        kinds: dict[str, int] = {}
        for e in events:
            if e["kind"] != "policy_changed":
                kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        counted = {
            dict(labels)["kind"]: v
            for (name, labels), v in end.items()
            if name == "harmone_adaptations_total"
        }
        assert counted == {k: float(n) for k, n in kinds.items()} and "switch" in counted
        state = http.get("/v1/systems/a").json()["status"]
        active = [
            dict(labels) for (name, labels), _ in end.items() if name == "harmone_active_model"
        ]
        assert active == [
            {"system": "a", "model": state["active_model"], "version": str(state["active_version"])}
        ]
