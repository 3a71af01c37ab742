"""Load on `harmone serve`: telemetry records per second accepted with decisions, intake latency,
and the server's memory over a long soak. Server and client are separate processes on 127.0.0.1.

    python benchmarks/serve_load.py [--records 20000] [--batch 50] [--soak 200000]

For 1, 10 and 100 managed systems, each posting as fast as its answers come back:

- ``v1``: harmone's API, ``--batch`` per-inference records per request, the `harmone` policy's
  MapeLoop deciding on every record (no adaptor endpoint, so the figure is intake + decisions);
- ``harmonica``: Harmonica's API, one record per request (as its wrapper posts), a policy with
  ``dynamic_logic`` and a secondary boundary evaluated on every record.

Every answer is sent after the records are committed with an fsync (see docs/serve.md). Prints
records/s, request latency p50 / p99 (ms), and for the soak (``--soak N`` records over 10
systems, 1,000,000 for the full figure) the server's RSS at start, at its peak and at the end,
with the store's size. Targets: >= 2,000 records/s, p99 < 50 ms, memory bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
POLICY = {
    "policy_id": "bench", "quality_attribute": "score",
    "adaptation_boundary": {"condition": "LESS_THAN", "threshold": 0.2,
                            "dynamic_logic": "historic_avg * 0.5"},
    "tactics": [{"tactic_id": "execute_mape_plan", "priority": 1,
                 "tactic_endpoint": "http://127.0.0.1:9/adaptor/tactic"}],
    "secondary_boundaries": [{"quality_attribute": "kl_div", "condition": "GREATER_THAN",
                              "threshold": 10.0, "tactic_id": "handle_data_drift"}],
}


def start_server(data_dir: Path, keep: int) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "harmone_tui", "serve", "--port", "0", "--data-dir",
         str(data_dir), "--keep-records", str(keep), "--max-body", str(8 << 20)],
        stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1)
    raise SystemExit(f"server did not start: exit {proc.wait()}")


def step_record(step: int, rng: random.Random) -> dict[str, Any]:
    truth = 100 + 40 * math.sin(step / 40) + rng.gauss(0, 4)
    return {"prediction": truth + rng.gauss(0, 6), "truth": truth, "model": "lstm",
            "energy_uj": 1500.0, "latency_ms": 0.3}


async def client_v1(http: httpx.AsyncClient, sid: str, n: int, batch: int,
                    latencies: list[float]) -> int:
    rng = random.Random(sid)
    await http.put(f"/v1/systems/{sid}", json={"preset": "harmone"})
    sent = 0
    while sent < n:
        records = [step_record(sent + i, rng) for i in range(min(batch, n - sent))]
        t0 = time.perf_counter()
        answer = await http.post(f"/v1/systems/{sid}/telemetry", json={"records": records})
        latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()
        sent += len(records)
    return sent


async def client_harmonica(http: httpx.AsyncClient, sid: str, n: int,
                           latencies: list[float]) -> int:
    rng = random.Random(sid)
    for i in range(n):
        record = {"score": 0.8 + rng.gauss(0, 0.05), "kl_div": rng.random(), "system_id": sid,
                  "model_used": "lstm", "timestamp": f"t{i}"}
        t0 = time.perf_counter()
        answer = await http.post("/api/telemetry", json=record)
        latencies.append(time.perf_counter() - t0)
        answer.raise_for_status()
    return n


async def scenario(url: str, mode: str, systems: int, records: int, batch: int,
                   tag: str) -> dict[str, float]:
    per_system = max(1, records // systems)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=systems, max_keepalive_connections=systems)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        if mode == "harmonica":
            (await http.post("/api/policy", json=POLICY)).raise_for_status()
        t0 = time.perf_counter()
        if mode == "v1":
            jobs = [client_v1(http, f"{tag}{i}", per_system, batch, latencies)
                    for i in range(systems)]
        else:
            jobs = [client_harmonica(http, f"{tag}{i}", per_system, latencies)
                    for i in range(systems)]
        done = sum(await asyncio.gather(*jobs))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {"records": done, "records_per_s": done / wall,
            "p50_ms": latencies[len(latencies) // 2] * 1e3,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3}


async def soak(url: str, proc: psutil.Process, records: int, batch: int,
               data_dir: Path) -> None:
    samples: list[int] = [proc.memory_info().rss]
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append(proc.memory_info().rss)
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    t0 = time.perf_counter()
    result = await scenario(url, "v1", 10, records, batch, "soak")
    stop.set()
    await sampler
    samples.append(proc.memory_info().rss)
    size = sum(p.stat().st_size for p in data_dir.glob("knowledge.sqlite3*"))
    mb = 1 / 2**20
    print(f"soak: {result['records']:,} records over 10 systems in {time.perf_counter() - t0:.0f}"
          f" s ({result['records_per_s']:,.0f}/s, p99 {result['p99_ms']:.1f} ms); server RSS start"
          f" {samples[0] * mb:.0f} MB, peak {max(samples) * mb:.0f} MB, end {samples[-1] * mb:.0f}"
          f" MB (RSS after the first 10%: {samples[len(samples) // 10] * mb:.0f} MB);"
          f" store {size * mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per scenario")
    parser.add_argument("--batch", type=int, default=50, help="records per /v1 request")
    parser.add_argument("--soak", type=int, default=200_000, help="records in the soak (0: none)")
    parser.add_argument("--keep", type=int, default=20_000, help="--keep-records of the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="harmone-serve-bench-") as tmp:
        proc, url = start_server(Path(tmp), args.keep)
        try:
            server = psutil.Process(proc.pid)
            print(f"harmone serve at {url}; {os.cpu_count()} CPUs; client in pid {os.getpid()}")
            print(f"{'api':<10} {'systems':>7} {'records':>8} {'records/s':>10} {'p50 ms':>7}"
                  f" {'p99 ms':>7}")
            for mode in ("v1", "harmonica"):
                for systems in (1, 10, 100):
                    n = args.records if mode == "v1" else args.records // 4
                    r = asyncio.run(scenario(url, mode, systems, n, args.batch,
                                             f"{mode}-{systems}-"))
                    print(f"{mode:<10} {systems:>7} {r['records']:>8,.0f}"
                          f" {r['records_per_s']:>10,.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f}",
                          flush=True)
            if args.soak:
                asyncio.run(soak(url, server, args.soak, args.batch, Path(tmp)))
        finally:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    main()
