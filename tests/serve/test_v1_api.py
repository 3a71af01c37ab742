"""harmone's /v1: the in-process MapeLoop decides on outside telemetry, whatever the batching."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from harmone_tui.serve.systems import RemoteSystem, StepRecord
from mape.policy_file import parse_policy
from tests.serve.helpers import adaptor, running, wait_until
from tests.serve.streams import POLICY, batches, records


def reference(stream: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The decisions of the loop fed the whole stream at once, in-process."""
    system = RemoteSystem("ref", parse_policy(POLICY, "policy"), "r2")
    actions = system.ingest(
        [
            StepRecord(
                r["prediction"], r["truth"], r["model"], 1, r["energy_uj"], r["latency_ms"], None
            )
            for r in stream
        ]
    )
    return [(a.step, a.kind) for a in actions]


def post_all(http: httpx.Client, sid: str, stream: list[dict[str, Any]], seed: int) -> None:
    for batch in batches(stream, seed):
        answer = http.post(f"/v1/systems/{sid}/telemetry", json={"records": batch})
        assert answer.status_code == 200, answer.text


def decisions(http: httpx.Client, sid: str) -> list[tuple[int, str]]:
    events = http.get(f"/v1/systems/{sid}/events", params={"limit": 10_000}).json()
    return [(e["step"], e["kind"]) for e in events if e["kind"] != "policy_changed"]


def test_served_loop_decides_as_in_process_whatever_the_batching(tmp_path: Path) -> None:
    stream = records(1500)
    expected = reference(stream)
    kinds = {k for _, k in expected}
    assert {"switch", "drift", "retrain_started"} <= kinds, expected  # the stream exercises them
    with adaptor() as tactic, running(tmp_path) as server, server.client() as http:
        for sid, seed in (("a", 1), ("b", 2)):
            put = http.put(f"/v1/systems/{sid}", json={"policy": POLICY, "endpoint": tactic.url})
            assert put.status_code == 201, put.text
            post_all(http, sid, stream, seed)
            assert decisions(http, sid) == expected
        posted = sum(1 for _, k in expected if k in ("switch", "retrain_started"))

        def stored() -> list[dict[str, Any]]:
            return http.get("/v1/systems/a/deliveries", params={"limit": 1000}).json()

        assert wait_until(lambda: all(d["state"] == "delivered" for d in stored()))
        rows = stored()
        assert len(rows) + sum(d["coalesced"] for d in rows) == posted
        sent = [t for t in tactic.received if t["system_id"] == "a"]
        assert sorted(t["delivery_id"] for t in sent) == sorted(d["id"] for d in rows)
        assert {t["tactic_id"] for t in sent} == {"switch_model", "retrain"}
        retrain = next(t for t in sent if t["tactic_id"] == "retrain")
        assert retrain["model"] in ("ridge", "mean") and len(retrain["values"]) > 10
        state = http.get("/v1/systems/a").json()
        assert state["records"] == 1500 and state["status"]["active_model"] == "ridge"
        assert state["status"]["energy_profile_uj"] == {"mean": 20.0, "ridge": 90.0}
        series = http.get("/v1/systems/a/series").json()
        assert series["quality_label"] == "R²" and len(series["points"]) == 30


def test_policy_put_is_validated_and_applied(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client() as http:
        http.put("/v1/systems/p", json={"policy": POLICY})
        bad = POLICY.replace("min_score = 0.5", "min_score = 3")
        answer = http.put("/v1/systems/p/policy", json={"toml": bad})
        assert answer.status_code == 422
        assert answer.json() == {
            "error": "policy:14: switch.min_score: must be <= 1.0, got 3",
            "field": "switch.min_score",
        }
        good = POLICY.replace("min_score = 0.5", "min_score = 0.6")
        assert http.put("/v1/systems/p/policy", json={"toml": good}).status_code == 200
        assert http.get("/v1/systems/p/policy").json()["toml"] == good
        events = http.get("/v1/systems/p/events").json()
        assert [e["kind"] for e in events] == ["policy_changed"]


def test_a_dead_adaptor_never_holds_up_another_system(tmp_path: Path) -> None:
    from harmone_tui.serve.config import DeliverySettings

    slow = DeliverySettings(timeout_s=0.3, attempts=2, backoff_s=0.05, backoff_max_s=0.05)
    with (
        adaptor(delay_s=30) as hung,
        adaptor() as live,
        running(tmp_path, delivery=slow) as server,
        server.client() as http,
    ):
        http.put("/v1/systems/stuck", json={"policy": POLICY, "endpoint": hung.url})
        http.put("/v1/systems/fine", json={"policy": POLICY, "endpoint": live.url})
        stream = records(600)
        post_all(http, "stuck", stream, 3)
        post_all(http, "fine", stream, 4)
        n = sum(1 for _, k in reference(stream) if k in ("switch", "retrain_started"))

        def states(sid: str) -> list[dict[str, Any]]:
            return http.get(f"/v1/systems/{sid}/deliveries").json()

        assert wait_until(lambda: all(d["state"] == "delivered" for d in states("fine")))
        assert any(d["state"] == "pending" for d in states("stuck"))
        assert wait_until(lambda: all(d["state"] == "failed" for d in states("stuck")), 30)
        for sid in ("fine", "stuck"):
            rows = states(sid)
            assert len(rows) + sum(d["coalesced"] for d in rows) == n
        failed = states("stuck")
        assert len(failed) < n  # a switch asked again while the first was on its way: coalesced
        assert all(d["attempts"] == 2 and d["answer"] == "no answer within 0.3 s" for d in failed)
