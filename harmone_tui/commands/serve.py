"""`harmone serve`: the managing system for ML pipelines that run elsewhere (docs/serve.md).

Managed systems post telemetry over HTTP (Harmonica's ``/api`` or harmone's ``/v1``), the MAPE-K
loop decides, and tactics are posted to each system's adaptor. Headless: one line per decision
on stderr. Needs the ``serve`` extra (FastAPI, uvicorn, httpx).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from harmone_tui import paths
from harmone_tui.commands.run import port_number

EXTRA_HINT = "pip install 'harmone-tui[serve]'"


def _positive(kind: type) -> object:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other needs a token)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=5000,
        help="port (default 5000, as Harmonica; 0: any free port)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="bearer token clients must send (default: $HARMONE_SERVE_TOKEN)",
    )
    parser.add_argument(
        "--keep-records",
        type=_positive(int),
        metavar="N",
        help="telemetry records kept per system (default: settings.toml"
        " [serve] keep_records, else 100000)",
    )
    parser.add_argument(
        "--max-body",
        type=_positive(int),
        metavar="BYTES",
        default=1_048_576,
        help="largest request body accepted (default 1 MiB)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser requests from ORIGIN (repeatable; default: none)",
    )
    parser.add_argument(
        "--delivery-timeout",
        type=_positive(float),
        default=5.0,
        metavar="S",
        help="seconds an adaptor has to answer one tactic POST (default 5)",
    )
    parser.add_argument(
        "--delivery-attempts",
        type=_positive(int),
        default=4,
        metavar="N",
        help="attempts per tactic before it is marked failed (default 4)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no line per decision or failed delivery (start and stop still)",
    )
    parser.add_argument(
        "--metrics-port",
        type=port_number,
        metavar="PORT",
        help="serve Prometheus metrics of every served system at http://HOST:PORT/metrics"
        " (0: any free port; needs the 'metrics' extra)",
    )
    parser.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address of the metrics endpoint (default 127.0.0.1: this machine only)",
    )


def _log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} harmone serve: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import httpx  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        print(
            f"harmone: error: `harmone serve` needs the 'serve' extra ({exc.name} is missing):"
            f" {EXTRA_HINT}",
            file=sys.stderr,
        )
        return 2
    from harmone_tui.serve.config import (
        DeliverySettings,
        ServeConfig,
        check_bind,
        configured_keep_records,
        read_token,
    )
    from harmone_tui.serve.server import serve

    token = read_token(args.token_file)
    check_bind(args.host, token)
    config = ServeConfig(
        data_dir=paths.data_dir(args.data_dir),
        host=args.host,
        port=args.port,
        token=token,
        max_body_bytes=args.max_body,
        keep_records=args.keep_records or configured_keep_records(),
        cors_origins=tuple(args.cors_origin),
        delivery=DeliverySettings(timeout_s=args.delivery_timeout, attempts=args.delivery_attempts),
        quiet=args.quiet,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
    )
    asyncio.run(serve(config, _log))
    return 0
