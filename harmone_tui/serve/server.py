"""Run the server on our own asyncio loop: uvicorn's ``Server.serve()`` awaited inside it.

Signals are handled as in headless mode (``loop.add_signal_handler``): SIGINT and SIGTERM make
uvicorn stop accepting and finish the requests in flight, then the service snapshots every
system and closes the store. uvicorn's own handlers are not installed: they would re-raise the
signal after shutdown and end the process before the state is flushed. The socket is bound
here, so a port in use is one line naming ``--port``, and ``--port 0`` picks a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from harmone_tui.metrics import start_endpoint
from harmone_tui.serve.app import create_app
from harmone_tui.serve.config import ServeConfig, ServeError
from harmone_tui.serve.metrics import ServeMetrics
from harmone_tui.serve.service import Service


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # our loop's handlers stop the server (see the module docstring)


class Control:
    """A handle on a running server from another thread (tests, benchmarks)."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.port = 0
        self.service: Service | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio sets TCP_NODELAY on accepted sockets only when proto is IPPROTO_TCP;
    # with proto 0 every answer waited ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"--host {host} --port {port}: cannot listen ({exc.strerror})") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def serve(
    config: ServeConfig, log: Callable[[str], None], control: Control | None = None
) -> None:
    """Serve until SIGINT/SIGTERM (or ``control.stop()``), then flush and return."""
    sock = bind(config.host, config.port)
    service = Service(config, log)
    endpoint = None
    try:
        if config.metrics_port is not None:
            service.metrics = ServeMetrics()
            endpoint = start_endpoint(
                config.metrics_port, config.metrics_host, service.metrics.registry
            )
            log(f"metrics on {endpoint.url}")
        await service.start()
    except BaseException:
        sock.close()
        if endpoint is not None:
            endpoint.close()
        raise
    app = create_app(service, config)
    server = _Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
            server_header=False,
        )
    )
    loop = asyncio.get_running_loop()
    handled = threading.current_thread() is threading.main_thread()
    if handled:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    port = sock.getsockname()[1]
    if control is not None:
        control._loop, control._server, control.port, control.service = loop, server, port, service
    try:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            host = f"[{config.host}]" if ":" in config.host else config.host
            auth = "bearer token required" if config.token else "no token: localhost only"
            log(
                f"listening on http://{host}:{port} ({auth}; {len(service.systems)} systems,"
                f" data {config.data_dir})"
            )
            if control is not None:
                control.ready.set()
        await task
    finally:
        if handled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        await service.stop()
        sock.close()
        if endpoint is not None:
            endpoint.close()
        log("stopped; state stored")
