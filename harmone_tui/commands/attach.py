"""`harmone attach URL`: the TUI of a running `harmone serve` (its managed systems, live)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        nargs="?",
        default="http://127.0.0.1:5000",
        help="the server (default http://127.0.0.1:5000)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="the server's bearer token (default: $HARMONE_SERVE_TOKEN)",
    )


def run(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print("harmone: error: attach needs a terminal", file=sys.stderr)
        return 2
    try:
        import httpx  # noqa: F401
    except ImportError:
        print(
            "harmone: error: `harmone attach` needs the 'serve' extra (httpx is missing):"
            " pip install 'harmone-tui[serve]'",
            file=sys.stderr,
        )
        return 2
    from harmone_tui.serve.config import read_token
    from harmone_tui.ui.attach.app import AttachApp

    if not args.url.startswith(("http://", "https://")):
        print(f"harmone: error: url: expected http://HOST:PORT, got {args.url!r}", file=sys.stderr)
        return 2
    token = read_token(args.token_file)
    return AttachApp(args.url, token).run() or 0
