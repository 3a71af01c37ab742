"""A real `harmone serve` on 127.0.0.1 (ephemeral port, its own thread and asyncio loop) and a
tiny real adaptor (stdlib HTTP server) that records the tactics it receives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from harmone_tui.serve.config import DeliverySettings, ServeConfig
from harmone_tui.serve.server import Control, serve

FAST_DELIVERY = DeliverySettings(timeout_s=2.0, attempts=3, backoff_s=0.05, backoff_max_s=0.1)


@dataclass
class Running:
    url: str
    control: Control
    lines: list[str]

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kw)

    def call(self, coro_fn: Callable[[], Any]) -> Any:
        """Run a coroutine of the service on the server's loop and wait for it."""
        loop = self.control._loop
        assert loop is not None
        return asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(30)


@contextlib.contextmanager
def running(data_dir: Path, **overrides: Any) -> Iterator[Running]:
    config = ServeConfig(data_dir=data_dir, port=0, delivery=FAST_DELIVERY)
    config = replace(config, **overrides)
    control, lines = Control(), []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(serve(config, lines.append, control))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failure.append(exc)
            control.ready.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert control.ready.wait(20), "server did not start"
    if failure:
        raise failure[0]
    try:
        yield Running(f"http://127.0.0.1:{control.port}", control, lines)
    finally:
        control.stop()
        thread.join(20)
        assert not thread.is_alive(), "server did not stop"


@dataclass
class Adaptor:
    """Records every POST body; ``status`` and ``delay_s`` shape its answer."""

    status: int = 200
    delay_s: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def wait_for(self, n: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout_s
        while len(self.received) < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.received


@contextlib.contextmanager
def adaptor(
    status: int = 200, delay_s: float = 0.0, path: str = "/adaptor/tactic"
) -> Iterator[Adaptor]:
    state = Adaptor(status, delay_s)
    released = threading.Event()  # ends a hung answer when the test is done

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.delay_s and released.wait(state.delay_s):
                return
            state.received.append(json.loads(body))
            answer = json.dumps({"status": "queued" if state.status < 300 else "refused"})
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server gave up waiting (its timeout)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        released.set()
        server.shutdown()
        server.server_close()


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False
