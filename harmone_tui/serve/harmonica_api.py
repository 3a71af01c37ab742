"""Harmonica's REST paths and payloads, so its managed systems and files work unchanged.

POST /api/telemetry, POST /api/policy, GET /api/knowledge/<policy_id> (``unassigned``: records
no policy watches) and POST /api/reset, as its Flask server had them (docs/serve.md lists the
differences). A record has no system id in Harmonica; an optional ``system_id`` key (our
extension) names one, otherwise each policy's records form one system named after the policy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from harmone_tui.serve.harmonica_rules import HarmonicaState
from harmone_tui.serve.schema import SYSTEM_ID, HarmonicaPolicyIn, TelemetryFiled, to_policy
from harmone_tui.serve.served import TACTIC_EVENT, RequestProblem, Served
from harmone_tui.serve.service import Service
from harmone_tui.serve.store import finish_runs

UNASSIGNED = "unassigned"
HISTORY_DEFAULT = 1_000
HISTORY_MAX = 100_000
STATUS = {"pending": "TRIGGERED", "delivered": "CONFIRMED_SUCCESS"}

router = APIRouter(prefix="/api", tags=["Harmonica compatible"])


def _service(request: Request) -> Service:
    return request.app.state.service


@router.post("/policy", status_code=201, summary="Register or replace a Harmonica policy")
async def post_policy(request: Request, policy: HarmonicaPolicyIn) -> dict[str, Any]:
    service = _service(request)
    if policy.policy_id == UNASSIGNED:
        raise RequestProblem(
            422, f"policy_id: {UNASSIGNED!r} is the bucket of unwatched records", "policy_id"
        )
    body = policy.model_dump(mode="json")
    try:
        parsed = to_policy(body)
    except ValueError as exc:
        field_name = "adaptation_boundary.dynamic_logic"
        raise RequestProblem(422, f"{field_name}: {exc}", field_name) from None
    text = json.dumps(body)
    await service.store.writer.commit(
        lambda conn: conn.execute(
            "INSERT OR REPLACE INTO serve_policies VALUES (?,?,?)",
            (policy.policy_id, text, time.time()),
        )
    )
    replaced = policy.policy_id in service.policies
    service.policies[policy.policy_id] = parsed
    service.log(
        f"policy {policy.policy_id} {'replaced' if replaced else 'registered'}:"
        f" {parsed.attribute} {parsed.primary.condition} {parsed.primary.threshold:g}"
    )
    return {
        "status": "success",
        "message": f"policy {policy.policy_id} registered",
        "policy_id": policy.policy_id,
    }


@router.post(
    "/telemetry", summary="Post one telemetry record (any keys)", response_model=TelemetryFiled
)
async def post_telemetry(
    request: Request,
    record: Annotated[dict[str, Any], Body(examples=[{"score": 0.8}])],
) -> JSONResponse:
    """The hot path: the answer is built here, not validated again by FastAPI (a third of the
    server's CPU per record went to serialising the answer)."""
    service = _service(request)
    given = record.get("system_id")
    if given is not None and (not isinstance(given, str) or not re.match(SYSTEM_ID, given)):
        raise RequestProblem(
            422,
            "system_id: must be 1-64 letters, digits or _.:- (our"
            f" extension to Harmonica's record), got {given!r}",
            "system_id",
        )
    policies = [p for p in service.policies.values() if p.attribute in record]
    buckets = [p.policy_id for p in policies] or [UNASSIGNED]
    targets: list[tuple[str, Served]] = []
    for pid in buckets:
        sid = given or pid
        config = {"policy_name": pid}
        served = await service.system(
            sid,
            "harmonica",
            config,
            lambda sid=sid, config=config: Served(
                sid, "harmonica", 0, config, harmonica=HarmonicaState()
            ),
        )
        if served.kind != "harmonica":
            raise RequestProblem(409, f"system_id: {sid!r} is a /v1 system", "system_id")
        targets.append((pid, served))
    # From here to the commit nothing awaits: this record's place in each system is fixed.
    ts, body = time.time(), json.dumps(record)
    rows, events, new, tactics, coalesced = [], [], [], [], []
    stamp = record.get("timestamp") or dt.datetime.now().isoformat()
    for pid, served in targets:
        seq = served.seq
        served.seq += 1
        rows.append((served.system_id, seq, ts, pid, body))
        policy = service.policies.get(pid)
        if policy is None or served.harmonica is None:
            continue
        for t in served.harmonica.evaluate(policy, record, seq):
            open_one = service.deliveries.open_delivery(served.system_id, t.tactic_id)
            tactics.append(t.tactic_id)
            if open_one is not None:
                open_one.coalesced += 1
                coalesced.append(t.tactic_id)
                continue
            payload = {
                "tactic_id": t.tactic_id,
                "trigger_value": t.value,
                "trigger_timestamp": stamp,
                "trigger_metric": t.metric,
                "policy_id": pid,
                "system_id": served.system_id,
            }
            d = service.new_delivery(
                served, pid, seq, t.tactic_id, t.endpoint, payload, t.metric, t.value
            )
            detail = {"reason": f"{t.reason}: post {t.tactic_id}", "policy": pid, "delivery": d.id}
            events.append((served.run_id, seq, ts, TACTIC_EVENT, json.dumps(detail)))
            new.append(d)
            service.log_decision(served, seq, t.reason, d)

    def job(conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO serve_records VALUES (?,?,?,?,?)", rows)
        conn.executemany(
            "INSERT INTO events(run_id, step, ts, kind, detail_json) VALUES (?,?,?,?,?)", events
        )
        for d in new:
            d.insert(conn)

    await service.commit([s for _, s in targets], job, new)
    return JSONResponse(
        {"status": "success", "filed_under": buckets, "tactics": tactics, "coalesced": coalesced}
    )


@router.get("/knowledge/{policy_id}", summary="A policy, its telemetry and its interventions")
async def get_knowledge(
    request: Request,
    policy_id: str,
    limit: int = Query(HISTORY_DEFAULT, ge=1, le=HISTORY_MAX, description="newest N of each"),
) -> dict[str, Any]:
    service = _service(request)
    policy = service.policies.get(policy_id)
    if policy is None and policy_id != UNASSIGNED:
        raise RequestProblem(404, f"policy_id: no policy {policy_id!r}", "policy_id")
    records = await service.store.read(
        "SELECT body FROM serve_records WHERE policy_id=? ORDER BY ts DESC, seq DESC LIMIT ?",
        (policy_id, limit),
    )
    logs = await service.store.read(
        "SELECT id, system_id, created_at, tactic_id, trigger_value, trigger_metric, state,"
        " http_status, attempts, answer FROM serve_deliveries WHERE policy_id=?"
        " ORDER BY id DESC LIMIT ?",
        (policy_id, limit),
    )
    return {
        "policy": None if policy is None else policy.body,
        "telemetry_history": [json.loads(r[0]) for r in reversed(records)],
        "intervention_logs": [_intervention(policy_id, r) for r in reversed(logs)],
    }


def _intervention(policy_id: str, r: tuple[Any, ...]) -> dict[str, Any]:
    did, sid, created, tactic, value, metric, state, status, attempts, answer = r
    if state == "failed":
        label = "CONFIRMED_FAILED" if status is not None else "REQUEST_FAILED"
    else:
        label = STATUS[state]
    return {
        "timestamp": dt.datetime.fromtimestamp(created).isoformat(),
        "policy_id": policy_id,
        "tactic_id": tactic,
        "trigger_value": value,
        "trigger_metric": metric,
        "status": label,
        "delivery_id": did,
        "system_id": sid,
        "attempts": attempts,
        "http_status": status,
        "answer": answer,
    }


@router.post("/reset", summary="Forget Harmonica policies, their records and interventions")
async def post_reset(request: Request) -> dict[str, Any]:
    service = _service(request)
    gone = [s for s in service.systems.values() if s.kind == "harmonica"]
    ids = [(s.system_id,) for s in gone]
    done = finish_runs([s.run_id for s in gone], "reset")

    def job(conn: sqlite3.Connection) -> None:
        for table in ("serve_records", "serve_deliveries", "serve_systems"):
            conn.executemany(f"DELETE FROM {table} WHERE system_id=?", ids)
        conn.execute("DELETE FROM serve_policies")
        done(conn)

    await service.store.writer.commit(job)
    for s in gone:
        del service.systems[s.system_id]
    service.policies.clear()
    service.log(f"reset: {len(gone)} Harmonica systems and every Harmonica policy forgotten")
    return {"status": "success", "message": "knowledge base reset"}
