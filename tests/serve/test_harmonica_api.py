"""A Harmonica managed system pointed at harmone: its records, its policy JSON, its adaptor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.serve.helpers import adaptor, running, wait_until


def harmonica_policy(endpoint: str, **boundary: Any) -> dict[str, Any]:
    """The shape of Harmonica's reg_harmone_score preset (its dashboard posts this)."""
    return {
        "policy_id": "reg_harmone_score",
        "quality_attribute": "score",
        "adaptation_boundary": {
            "type": "STATIC_THRESHOLD",
            "condition": "LESS_THAN",
            "threshold": 0.78,
            **boundary,
        },
        "tactics": [
            {
                "tactic_id": "switch_model_r2_baseline",
                "priority": 2,
                "tactic_type": "CORE",
                "tactic_endpoint": endpoint,
            },
            {
                "tactic_id": "execute_mape_plan",
                "priority": 1,
                "tactic_type": "CORE",
                "tactic_endpoint": endpoint,
            },
        ],
        "secondary_boundaries": [
            {
                "quality_attribute": "kl_div",
                "condition": "GREATER_THAN",
                "threshold": 0.75,
                "tactic_id": "handle_data_drift",
            }
        ],
        "associated_qas": ["score", "normalized_energy", "model_used"],
    }


def record(score: float, kl: float = 0.05) -> dict[str, Any]:
    """What Harmonica's wrapper posts: monitor_mape() merged with monitor_drift(), timestamped."""
    mape = {
        "score": score,
        "normalized_energy": 0.3,
        "model_used": "lstm",
        "r2_score": 0.9,
        "confidence": 0.85,
    }
    return {**mape, "kl_div": kl, "timestamp": dt.datetime.now().isoformat()}


def test_harmonica_system_gets_its_tactics_and_knowledge(tmp_path: Path) -> None:
    with adaptor() as tactic, running(tmp_path) as server, server.client() as http:
        assert http.post("/api/policy", json=harmonica_policy(tactic.url)).status_code == 201
        for score in (0.9, 0.85, 0.6, 0.88):
            assert http.post("/api/telemetry", json=record(score)).status_code == 200
        assert http.post("/api/telemetry", json={"cpu": 3}).status_code == 200
        got = tactic.wait_for(1)
        assert len(got) == 1
        assert got[0]["tactic_id"] == "execute_mape_plan"  # the lowest priority number
        assert got[0]["trigger_value"] == 0.6 and "trigger_timestamp" in got[0]
        assert wait_until(
            lambda: (
                http.get("/api/knowledge/reg_harmone_score").json()["intervention_logs"][0][
                    "status"
                ]
                == "CONFIRMED_SUCCESS"
            )
        )
        knowledge = http.get("/api/knowledge/reg_harmone_score").json()
        assert set(knowledge) == {"policy", "telemetry_history", "intervention_logs"}
        assert knowledge["policy"]["associated_qas"] == ["score", "normalized_energy", "model_used"]
        assert [r["score"] for r in knowledge["telemetry_history"]] == [0.9, 0.85, 0.6, 0.88]
        log = knowledge["intervention_logs"][0]
        assert {
            "timestamp",
            "policy_id",
            "tactic_id",
            "trigger_value",
            "trigger_metric",
            "status",
        } <= set(log)
        assert log["trigger_metric"] == "score"
        stray = http.get("/api/knowledge/unassigned").json()
        assert stray["telemetry_history"] == [{"cpu": 3}]
        series = http.get("/v1/systems/reg_harmone_score/series").json()
        assert series["quality_label"] == "score"
        assert [p[1] for p in series["points"]] == [0.9, 0.85, 0.6, 0.88]


def test_dynamic_logic_uses_the_running_historic_mean(tmp_path: Path) -> None:
    policy = harmonica_policy("http://127.0.0.1:9/none", dynamic_logic="historic_avg * 0.9")
    with running(tmp_path) as server, server.client() as http:
        http.post("/api/policy", json=policy)
        fired = [
            http.post("/api/telemetry", json=record(s)).json()["tactics"]
            for s in (0.7, 0.76, 0.8, 0.5)
        ]
    # 0.7: no history, the static test decides. 0.76 < 0.78 but not < 0.7 * 0.9 = 0.63.
    # 0.5 < 0.78 and < mean(0.7, 0.76, 0.8) * 0.9 = 0.678.
    assert fired == [["execute_mape_plan"], [], [], ["execute_mape_plan"]]


def test_secondary_boundary_is_checked_on_every_record(tmp_path: Path) -> None:
    with adaptor() as tactic, running(tmp_path) as server, server.client() as http:
        http.post("/api/policy", json=harmonica_policy(tactic.url))
        answers = [
            http.post("/api/telemetry", json=record(0.9, kl)).json()["tactics"]
            for kl in (0.1, 0.9, 0.1)
        ]
        assert answers == [[], ["handle_data_drift"], []]
        assert [t["tactic_id"] for t in tactic.wait_for(1)] == ["handle_data_drift"]


def test_refused_and_unreachable_adaptors_get_harmonicas_statuses(tmp_path: Path) -> None:
    with adaptor(status=400) as refusing, running(tmp_path) as server, server.client() as http:
        http.post("/api/policy", json=harmonica_policy(refusing.url))
        dead = harmonica_policy("http://127.0.0.1:9/adaptor/tactic")
        dead.update(policy_id="dead", quality_attribute="r2_score")
        dead["adaptation_boundary"]["threshold"] = 0.95
        http.post("/api/policy", json=dead)
        http.post("/api/telemetry", json=record(0.5))

        def status(pid: str) -> str:
            logs = http.get(f"/api/knowledge/{pid}").json()["intervention_logs"]
            return logs[0]["status"] if logs else ""

        assert wait_until(lambda: status("reg_harmone_score") == "CONFIRMED_FAILED")
        assert wait_until(lambda: status("dead") == "REQUEST_FAILED")
        log = http.get("/api/knowledge/dead").json()["intervention_logs"][0]
        assert log["attempts"] == 3 and "Connect" in log["answer"]
        assert len(refusing.received) == 1  # a 400 is an answer: not retried


def test_reset_forgets_harmonica_state(tmp_path: Path) -> None:
    with running(tmp_path) as server, server.client() as http:
        http.post("/api/policy", json=harmonica_policy("http://127.0.0.1:9/x"))
        http.post("/api/telemetry", json=record(0.9))
        assert http.post("/api/reset").status_code == 200
        assert http.get("/api/knowledge/reg_harmone_score").status_code == 404
        assert http.get("/api/knowledge/unassigned").json()["telemetry_history"] == []
