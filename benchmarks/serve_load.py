"""Load on `harmone serve`: telemetry records per second accepted with decisions, intake latency,
and the server's memory over a long soak. Server and client are separate processes on 127.0.0.1.

    python benchmarks/serve_load.py [--records 20000] [--batch 50] [--soak 200000]

For 1, 10 and 100 managed systems, each posting as fast as its answers come back (``max``:
throughput, where latency is queueing behind the other systems), then paced at ``--rate``
records/s in all (latency at a load below saturation):

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
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
POLICY = {
    "policy_id": "bench",
    "quality_attribute": "score",
    "adaptation_boundary": {
        "condition": "LESS_THAN",
        "threshold": 0.2,
        "dynamic_logic": "historic_avg * 0.5",
    },
    "tactics": [
        {
            "tactic_id": "execute_mape_plan",
            "priority": 1,
            "tactic_endpoint": "http://127.0.0.1:9/adaptor/tactic",
        }
    ],
    "secondary_boundaries": [
        {
            "quality_attribute": "kl_div",
            "condition": "GREATER_THAN",
            "threshold": 10.0,
            "tactic_id": "handle_data_drift",
        }
    ],
}


def start_server(data_dir: Path, keep: int) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harmone_tui",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--keep-records",
            str(keep),
            "--max-body",
            str(8 << 20),
            "--quiet",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:  # keep reading: a full pipe would block the server's log lines
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, found.group(1)
    raise SystemExit(f"server did not start: exit {proc.wait()}")


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the load generator must cost
    less than the server it measures (httpx's pool spent 5.6 s of CPU on 20,000 records over
    100 connections, four times the server's own time, and its queueing made the p99)."""

    def __init__(self, url: str) -> None:
        found = re.match(r"http://([^:/]+):(\d+)", url)
        assert found, url
        self.host, self.port = found.group(1), int(found.group(2))
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        status = int(status_line.split()[1])
        if status >= 400:
            raise SystemExit(f"{method} {path}: {status} {answer[:200]!r}")
        return status, json.loads(answer) if answer else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def step_record(step: int, rng: random.Random) -> dict[str, Any]:
    truth = 100 + 40 * math.sin(step / 40) + rng.gauss(0, 4)
    return {
        "prediction": truth + rng.gauss(0, 6),
        "truth": truth,
        "model": "lstm",
        "energy_uj": 1500.0,
        "latency_ms": 0.3,
    }


async def pace(t0: float, sent: int, per_s: float | None) -> None:
    """Wait until ``sent`` records are due at ``per_s`` records per second (None: at once)."""
    if per_s:
        ahead = t0 + sent / per_s - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)


async def client_v1(
    url: str, sid: str, n: int, batch: int, latencies: list[float], per_s: float | None
) -> int:
    rng = random.Random(sid)
    http = Connection(url)
    await http.request("PUT", f"/v1/systems/{sid}", {"preset": "harmone"})
    sent, start = 0, time.perf_counter() + rng.random() * (batch / per_s if per_s else 0)
    while sent < n:
        await pace(start, sent, per_s)
        records = [step_record(sent + i, rng) for i in range(min(batch, n - sent))]
        t0 = time.perf_counter()
        await http.request("POST", f"/v1/systems/{sid}/telemetry", {"records": records})
        latencies.append(time.perf_counter() - t0)
        sent += len(records)
    await http.close()
    return sent


async def client_harmonica(
    url: str, sid: str, n: int, latencies: list[float], per_s: float | None
) -> int:
    rng = random.Random(sid)
    http = Connection(url)
    start = time.perf_counter() + rng.random() * (1 / per_s if per_s else 0)
    for i in range(n):
        await pace(start, i, per_s)
        record = {
            "score": 0.8 + rng.gauss(0, 0.05),
            "kl_div": rng.random(),
            "system_id": sid,
            "model_used": "lstm",
            "timestamp": f"t{i}",
        }
        t0 = time.perf_counter()
        await http.request("POST", "/api/telemetry", record)
        latencies.append(time.perf_counter() - t0)
    await http.close()
    return n


async def scenario(
    url: str, mode: str, systems: int, records: int, batch: int, tag: str, rate: float | None = None
) -> dict[str, float]:
    """``systems`` clients posting ``records`` in all, as fast as answers come (``rate`` None)
    or at ``rate`` records per second in all, spread evenly over the systems."""
    per_system = max(1, records // systems)
    per_s = rate / systems if rate else None
    latencies: list[float] = []
    if mode == "harmonica":
        setup = Connection(url)
        await setup.request("POST", "/api/policy", POLICY)
        await setup.close()
    t0 = time.perf_counter()
    if mode == "v1":
        jobs = [
            client_v1(url, f"{tag}{i}", per_system, batch, latencies, per_s) for i in range(systems)
        ]
    else:
        jobs = [
            client_harmonica(url, f"{tag}{i}", per_system, latencies, per_s) for i in range(systems)
        ]
    done = sum(await asyncio.gather(*jobs))
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "records": done,
        "records_per_s": done / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


async def soak(url: str, proc: psutil.Process, records: int, batch: int, data_dir: Path) -> None:
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
    print(
        f"soak: {result['records']:,} records over 10 systems in {time.perf_counter() - t0:.0f}"
        f" s ({result['records_per_s']:,.0f}/s, p99 {result['p99_ms']:.1f} ms); server RSS start"
        f" {samples[0] * mb:.0f} MB, peak {max(samples) * mb:.0f} MB, end {samples[-1] * mb:.0f}"
        f" MB (RSS after the first 10%: {samples[len(samples) // 10] * mb:.0f} MB);"
        f" store {size * mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per scenario")
    parser.add_argument("--batch", type=int, default=50, help="records per /v1 request")
    parser.add_argument("--soak", type=int, default=200_000, help="records in the soak (0: none)")
    parser.add_argument("--keep", type=int, default=20_000, help="--keep-records of the server")
    parser.add_argument(
        "--rate",
        type=float,
        default=2_000.0,
        help="records/s offered in the paced rows (Harmonica rows: a quarter)",
    )
    parser.add_argument("--paced-s", type=float, default=10.0, help="seconds per paced row")
    parser.add_argument("--paced-batch", type=int, default=10, help="records per paced request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="harmone-serve-bench-") as tmp:
        proc, url = start_server(Path(tmp), args.keep)
        try:
            server = psutil.Process(proc.pid)
            print(f"harmone serve at {url}; {os.cpu_count()} CPUs; client in pid {os.getpid()}")
            print(
                f"{'api':<10} {'systems':>7} {'offered/s':>9} {'records':>8} {'records/s':>10}"
                f" {'p50 ms':>7} {'p99 ms':>7} {'server CPU us/rec':>17}"
            )
            plan = [(mode, n, None) for mode in ("v1", "harmonica") for n in (1, 10, 100)]
            plan += [("v1", systems, args.rate) for systems in (1, 10, 100)]
            plan += [("harmonica", systems, args.rate / 4) for systems in (1, 10, 100)]
            for mode, systems, rate in plan:
                n = args.records if mode == "v1" else args.records // 4
                if rate:
                    n = int(rate * args.paced_s)
                batch = args.batch if rate is None else args.paced_batch
                cpu0 = sum(server.cpu_times()[:2])
                r = asyncio.run(
                    scenario(url, mode, systems, n, batch, f"{mode}-{systems}-{rate}-", rate)
                )
                cpu = (sum(server.cpu_times()[:2]) - cpu0) / r["records"] * 1e6
                offered = f"{rate:,.0f}" if rate else "max"
                print(
                    f"{mode:<10} {systems:>7} {offered:>9} {r['records']:>8,.0f}"
                    f" {r['records_per_s']:>10,.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f}"
                    f" {cpu:>17,.0f}",
                    flush=True,
                )
            if args.soak:
                asyncio.run(soak(url, server, args.soak, args.batch, Path(tmp)))
        finally:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    main()
