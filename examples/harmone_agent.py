"""The managed side of `harmone serve`: wrap your models, report each inference, obey tactics.

Standard library only, so it drops into any pipeline. About ten lines manage a model::

    from harmone_agent import Agent

    models = {"ridge": ridge, "mean": baseline}          # anything with .predict([x]) or a callable
    with Agent("http://127.0.0.1:5000", "traffic", models, preset="switch") as agent:
        for x, y in stream:
            agent.predict(x)                             # runs the model the server chose
            agent.observe(y)                             # the truth, when it is known

The agent registers the system (``PUT /v1/systems/<id>``) with its adaptor endpoint, measures
each model's energy per call (this thread's CPU time x a J per CPU-second coefficient, as harmone
estimates without RAPL) and reports it, posts records in batches from a background thread
(``first_step`` makes a resent batch count once), and hosts the adaptor that receives tactics:
``switch_model`` changes the model that runs; ``retrain`` calls your ``retrain(model, values)``
if you gave one (it returns the new model; the version goes up); ``reuse_version`` is logged.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

J_PER_CPU_S = 2.76  # harmone's estimate for an unknown CPU (DESIGN.md section 6)
CALIBRATION_CALLS = 20


class Agent:
    """One managed system: the models, the adaptor endpoint, and the telemetry sender."""

    def __init__(
        self,
        server: str,
        system_id: str,
        models: dict[str, Any],
        *,
        policy: str | None = None,
        preset: str | None = None,
        token: str | None = None,
        retrain: Callable[[str, Sequence[float]], Any] | None = None,
        batch: int = 50,
        adaptor_host: str = "127.0.0.1",
        adaptor_port: int = 0,
    ) -> None:
        self.server = server.rstrip("/")
        self.system_id = system_id
        self.models = dict(models)
        self.versions = dict.fromkeys(models, 1)
        self.active = next(iter(models))
        self.policy, self.preset, self.token = policy, preset, token
        self.retrain_fn = retrain
        self.batch = batch
        self.tactics: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._pending: dict[str, Any] | None = None
        self._records: list[dict[str, Any]] = []
        self._step = 0
        self._outbox: queue.Queue[tuple[int, list[dict[str, Any]]] | None] = queue.Queue(1000)
        self._adaptor = ThreadingHTTPServer((adaptor_host, adaptor_port), self._handler())
        self._adaptor.daemon_threads = True
        self.endpoint = f"http://{adaptor_host}:{self._adaptor.server_address[1]}/adaptor/tactic"
        self._threads = [
            threading.Thread(target=self._adaptor.serve_forever, daemon=True),
            threading.Thread(target=self._send_loop, daemon=True),
        ]

    # life cycle -----------------------------------------------------------------------------------
    def start(self, sample: Any = None) -> Self:
        """Register with the server (measuring each model on ``sample`` if given) and start."""
        for thread in self._threads:
            thread.start()
        body: dict[str, Any] = {"endpoint": self.endpoint}
        if self.policy is not None:
            body["policy"] = self.policy
        elif self.preset is not None:
            body["preset"] = self.preset
        if sample is not None:
            body["energy_profile_uj"] = {m: self._calibrate(m, sample) for m in self.models}
        state = self._call("PUT", f"/v1/systems/{self.system_id}", body)
        self._step = int(state.get("records", 0))
        model = state.get("status", {}).get("active_model")
        self.active = model if model in self.models else self.active
        return self

    def close(self) -> None:
        """Send what is left, then stop the adaptor."""
        self.flush()
        self._outbox.put(None)
        self._threads[1].join(30)
        self._adaptor.shutdown()
        self._adaptor.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the pipeline's calls -------------------------------------------------------------------------
    def predict(self, x: Any) -> float:
        """Run the active model on one input; the record waits for :meth:`observe`."""
        self._close_pending(None)
        model = self.active
        t0, c0 = time.perf_counter(), time.thread_time()
        y = _call_model(self.models[model], x)
        cpu_s, wall_s = time.thread_time() - c0, time.perf_counter() - t0
        self._pending = {
            "prediction": y,
            "model": model,
            "version": self.versions[model],
            "energy_uj": cpu_s * J_PER_CPU_S * 1e6,
            "latency_ms": wall_s * 1e3,
        }
        return y

    def observe(self, truth: float | None) -> None:
        """The true value of the last prediction (None: never known)."""
        self._close_pending(truth)

    def flush(self) -> None:
        self._close_pending(None)
        if self._records:
            self._outbox.put((self._step - len(self._records), self._records))
            self._records = []

    # internals ----------------------------------------------------------------------------------
    def _close_pending(self, truth: float | None) -> None:
        if self._pending is None:
            return
        record, self._pending = self._pending, None
        if truth is not None:
            record["truth"] = float(truth)
        self._records.append(record)
        self._step += 1
        if len(self._records) >= self.batch:
            self.flush()

    def _calibrate(self, model: str, sample: Any) -> float:
        _call_model(self.models[model], sample)
        c0 = time.thread_time()
        for _ in range(CALIBRATION_CALLS):
            _call_model(self.models[model], sample)
        return (time.thread_time() - c0) / CALIBRATION_CALLS * J_PER_CPU_S * 1e6

    def _send_loop(self) -> None:
        while (item := self._outbox.get()) is not None:
            first, records = item
            for wait in (0, 0.5, 1, 2, 4, 8, 16):
                time.sleep(wait)
                try:
                    self._call(
                        "POST",
                        f"/v1/systems/{self.system_id}/telemetry",
                        {"records": records, "first_step": first},
                    )
                    break
                except (OSError, ValueError) as exc:
                    self.errors.append(str(exc))

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.server + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise ValueError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def _on_tactic(self, tactic: dict[str, Any]) -> None:
        self.tactics.append(tactic)
        kind, model = tactic.get("tactic_id"), tactic.get("model")
        if kind == "switch_model" and model in self.models:
            self.active = model
        elif kind == "retrain" and model in self.models and self.retrain_fn is not None:
            self.models[model] = self.retrain_fn(model, tactic.get("values", []))
            self.versions[model] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        agent = self

        class Adaptor(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    tactic = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    if tactic.get("tactic_id") == "retrain":  # may take long: answer at once
                        threading.Thread(target=agent._on_tactic, args=(tactic,)).start()
                    else:  # in order: the server sends one system's tactics one at a time
                        agent._on_tactic(tactic)
                    code, answer = 200, {"status": "queued", "tactic_id": tactic.get("tactic_id")}
                except (ValueError, TypeError, KeyError) as exc:
                    code, answer = 400, {"error": f"not a tactic: {exc}"}
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Adaptor


def _call_model(model: Any, x: Any) -> float:
    if hasattr(model, "predict"):
        return float(model.predict([x])[0])
    return float(model(x))
