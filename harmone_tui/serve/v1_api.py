"""harmone's own API, ``/v1``: register systems, post per-inference telemetry in batches, read
state, events, deliveries and sparkline series, and replace a system's policy.

The same :class:`~mape.loop.MapeLoop` as in-process decides (see :mod:`harmone_tui.serve.systems`);
a policy is TOML checked as `harmone policy check` checks a file, so an error names the
line and key (``policy:12: switch.min_score: must be <= 1.0, got 3``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from harmone_tui import __version__
from harmone_tui.event_text import describe
from harmone_tui.serve.schema import (
    SYSTEM_ID,
    DeliveryOut,
    EventOut,
    PolicyIn,
    SeriesOut,
    SystemIn,
    SystemOut,
    TelemetryAck,
    TelemetryIn,
)
from harmone_tui.serve.served import SNAPSHOT_EVERY, RequestProblem, Served, policy_text_of
from harmone_tui.serve.service import Service
from harmone_tui.serve.systems import RemoteSystem, StepRecord
from mape.policy import Policy, PolicyError
from mape.policy_file import parse_policy

router = APIRouter(prefix="/v1", tags=["harmone"])
SystemId = Path(pattern=SYSTEM_ID, description="the managed system's id")
QUALITY_LABEL = {"r2": "R²", "mean_prediction": "mean prediction"}


def _service(request: Request) -> Service:
    return request.app.state.service


def _policy(text: str, source: str) -> Policy:
    try:
        return parse_policy(text, source)
    except PolicyError as exc:
        message = str(exc)
        parts = message.split(": ")
        key = parts[1] if len(parts) > 2 else source
        raise RequestProblem(422, message, key) from None


def system_out(served: Served) -> SystemOut:
    if served.remote is not None:
        status = served.remote.status()
        policy = served.remote.policy.name
    else:
        assert served.harmonica is not None
        status = {
            "historic_avg": {
                k.split("\x1f")[0]: (s / n if n else None)
                for k, (s, n) in served.harmonica.sums.items()
            }
        }
        policy = served.config.get("policy_name", "")
    return SystemOut(
        system_id=served.system_id,
        kind=served.kind,  # type: ignore[arg-type]
        run_id=served.run_id,
        endpoint=served.config.get("endpoint"),
        policy=policy,
        records=served.seq,
        status=status,
        deliveries=dict(served.counts),
    )


@router.get("/health", summary="Is the server up; how many systems it serves")
async def health(request: Request) -> dict[str, Any]:
    service = _service(request)
    return {
        "status": "ok",
        "version": __version__,
        "systems": len(service.systems),
        "deliveries_queued": service.deliveries.queued(),
        "uptime_s": round(time.time() - service.started_at, 1),
    }


@router.get("/systems", summary="Every managed system")
async def list_systems(request: Request) -> list[SystemOut]:
    return [system_out(s) for s in _service(request).systems.values()]


@router.put("/systems/{system_id}", summary="Register a system, or change its endpoint or policy")
async def put_system(
    request: Request, response: Response, body: SystemIn, system_id: str = SystemId
) -> SystemOut:
    service = _service(request)
    if body.policy is not None and body.preset is not None:
        raise RequestProblem(
            422, "policy: give a policy (TOML text) or a preset, not both", "policy"
        )
    config = body.model_dump(exclude_none=True)
    existing = service.systems.get(system_id)
    if existing is None:
        text, source = policy_text_of(config)
        policy = _policy(text, source)
        config["policy_name"] = policy.name
        remote = RemoteSystem(system_id, policy, body.quality, body.energy_profile_uj)
        served = await service.system(
            system_id, "v1", config, lambda: Served(system_id, "v1", 0, config, remote=remote)
        )
        response.status_code = 201
        return system_out(served)
    if existing.kind != "v1":
        raise RequestProblem(409, f"system_id: {system_id!r} is a Harmonica system", "system_id")
    if body.quality != existing.config.get("quality", "r2"):
        raise RequestProblem(409, "quality: cannot change for a registered system", "quality")
    if "endpoint" in config:
        existing.config["endpoint"] = config["endpoint"]
    if body.policy is not None or body.preset is not None:
        text, source = policy_text_of(config)
        await _apply_policy(service, existing, text, source)
    else:
        await service.store.writer.commit(existing.snapshot_job())
    return system_out(existing)


@router.get("/systems/{system_id}", summary="A system's loop state and delivery counts")
async def get_system(request: Request, system_id: str = SystemId) -> SystemOut:
    return system_out(_service(request).find(system_id))


@router.post(
    "/systems/{system_id}/telemetry",
    summary="A batch of per-inference records",
    response_model=TelemetryAck,
)
async def post_telemetry(
    request: Request, body: TelemetryIn, system_id: str = SystemId
) -> JSONResponse:
    """The hot path: the answer is built as JSON here (TelemetryAck documents it), not
    validated and serialised a second time by FastAPI."""
    service = _service(request)
    served = service.find(system_id, "v1")
    remote = served.remote
    assert remote is not None
    given = body.records
    if body.first_step is not None:
        if body.first_step > served.seq:
            raise RequestProblem(
                409,
                f"first_step: {body.first_step} is past the {served.seq}"
                " records the server has of this system",
                "first_step",
            )
        given = given[served.seq - body.first_step :]
    records = [
        StepRecord(r.prediction, r.truth, r.model, r.version, r.energy_uj, r.latency_ms, r.drift)
        for r in given
    ]
    problem = remote.check(records)
    if problem:
        raise RequestProblem(422, problem, problem.split(":")[0])
    # From here to the commit nothing awaits: the records' steps are fixed.
    ts, first = time.time(), served.seq
    actions = remote.ingest(records)
    served.seq += len(records)
    rows = [(system_id, first + i, ts, None, json.dumps(r.row())) for i, r in enumerate(records)]
    events, new, decisions = [], [], []
    endpoint = served.config.get("endpoint")
    stamp = dt.datetime.now().isoformat()
    for a in actions:
        d = None
        if a.tactic is not None and endpoint:
            d = service.deliveries.open_delivery(system_id, a.tactic["tactic_id"])
            if d is not None and _same_tactic(d.payload, a.tactic):
                d.coalesced += 1  # the same command is still on its way: not queued twice
            else:
                payload = {
                    **a.tactic,
                    "system_id": system_id,
                    "step": a.step,
                    "trigger_timestamp": stamp,
                }
                d = service.new_delivery(
                    served, None, a.step, a.tactic["tactic_id"], endpoint, payload
                )
                new.append(d)
        events.append((served.run_id, a.step, ts, a.kind, json.dumps(a.detail, default=str)))
        text = describe(a.kind, a.detail)
        decisions.append(
            {"step": a.step, "kind": a.kind, "text": text, "delivery_id": d.id if d else None}
        )
        service.log_decision(served, a.step, text, d)
    jobs = []
    if served.seq - served.snapshot_seq >= SNAPSHOT_EVERY:
        jobs.append(served.snapshot_job())

    def job(conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO serve_records VALUES (?,?,?,?,?)", rows)
        conn.executemany(
            "INSERT INTO events(run_id, step, ts, kind, detail_json) VALUES (?,?,?,?,?)", events
        )
        for d in new:
            d.insert(conn)
        for extra in jobs:
            extra(conn)

    await service.commit([served], job, new)
    return JSONResponse(
        {
            "system_id": system_id,
            "accepted": len(records),
            "step": served.seq,
            "decisions": decisions,
        }
    )


def _same_tactic(sent: dict[str, Any], tactic: dict[str, Any]) -> bool:
    """The same command (tactic and target), whatever its reason and step: a switch the
    system has not yet made is asked again at every cycle until its records show it."""
    return all(sent.get(k) == tactic.get(k) for k in ("tactic_id", "model", "version"))


@router.get("/systems/{system_id}/policy", summary="The policy in force (TOML)")
async def get_policy(request: Request, system_id: str = SystemId) -> dict[str, str]:
    served = _service(request).find(system_id, "v1")
    text = served.config.get("policy") or ""
    if not text:
        text = policy_text_of(served.config)[0]
    return {"name": served.config.get("policy_name", ""), "toml": text}


@router.put("/systems/{system_id}/policy", summary="Replace the policy (from the next cycle)")
async def put_policy(request: Request, body: PolicyIn, system_id: str = SystemId) -> SystemOut:
    service = _service(request)
    served = service.find(system_id, "v1")
    await _apply_policy(service, served, body.toml, "policy")
    return system_out(served)


async def _apply_policy(service: Service, served: Served, text: str, source: str) -> None:
    policy = _policy(text, source)
    assert served.remote is not None
    served.remote.apply_policy(policy)
    served.config.update(policy=text, policy_name=policy.name)
    served.config.pop("preset", None)
    detail = {"policy": policy.name, "source": "PUT /v1 (in force at the next cycle)"}
    step, ts = served.seq, time.time()
    snap = served.snapshot_job()

    def job(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO events(run_id, step, ts, kind, detail_json) VALUES (?,?,?,?,?)",
            (served.run_id, step, ts, "policy_changed", json.dumps(detail)),
        )
        conn.execute(
            "INSERT INTO policies_applied VALUES (?,?,?,?,?)",
            (served.run_id, step, ts, policy.name, text),
        )
        snap(conn)

    await service.commit([served], job, [])
    service.log_decision(served, step, describe("policy_changed", detail), None)


@router.get("/systems/{system_id}/events", summary="Decisions and other events, oldest first")
async def get_events(
    request: Request,
    system_id: str = SystemId,
    after: int = Query(0, ge=0, description="only events with a larger id"),
    limit: int = Query(200, ge=1, le=10_000),
) -> list[EventOut]:
    service = _service(request)
    served = service.find(system_id)
    rows = await service.store.read(
        "SELECT id, step, ts, kind, detail_json FROM events WHERE run_id=? AND id>?"
        " ORDER BY id LIMIT ?",
        (served.run_id, after, limit),
    )
    out = []
    for eid, step, ts, kind, detail_json in rows:
        detail = json.loads(detail_json)
        out.append(
            EventOut(
                id=eid, step=step, ts=ts, kind=kind, text=describe(kind, detail), detail=detail
            )
        )
    return out


@router.get("/systems/{system_id}/deliveries", summary="Tactic deliveries, newest first")
async def get_deliveries(
    request: Request, system_id: str = SystemId, limit: int = Query(50, ge=1, le=10_000)
) -> list[DeliveryOut]:
    service = _service(request)
    service.find(system_id)
    rows = await service.store.read(
        "SELECT id, seq, tactic_id, endpoint, state, attempts, coalesced, http_status, answer,"
        " trigger_metric, trigger_value, created_at, updated_at FROM serve_deliveries"
        " WHERE system_id=? ORDER BY id DESC LIMIT ?",
        (system_id, limit),
    )
    keys = (
        "id",
        "step",
        "tactic_id",
        "endpoint",
        "state",
        "attempts",
        "coalesced",
        "http_status",
        "answer",
        "trigger_metric",
        "trigger_value",
        "created_at",
        "updated_at",
    )
    return [DeliveryOut(**dict(zip(keys, r, strict=True))) for r in rows]


@router.get("/systems/{system_id}/series", summary="Recent quality and energy, for sparklines")
async def get_series(request: Request, system_id: str = SystemId) -> SeriesOut:
    served = _service(request).find(system_id)
    if served.remote is not None:
        label = QUALITY_LABEL[served.remote.quality]
        return SeriesOut(
            system_id=system_id,
            quality_label=label,
            energy_label="µJ/inference",
            points=list(served.remote.series),
        )
    assert served.harmonica is not None
    series = served.harmonica.series
    key = next(iter(series), None)
    points = list(series[key]) if key is not None else []
    policy = _service(request).policies.get(key or "")
    label = policy.attribute if policy is not None else (key or "")
    return SeriesOut(system_id=system_id, quality_label=label, energy_label="energy", points=points)  # type: ignore[arg-type]
