"""How `harmone serve` is set up, and the safety checks made before it listens.

Harmonica's server listened on every interface with no authentication. Here the default bind is
127.0.0.1; any other address needs a bearer token (from a file or ``HARMONE_SERVE_TOKEN``) and
the server refuses to start without one. A token, once given, is required on every request,
whatever the address.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from harmone_common.errors import HarmoneError
from harmone_tui import paths

TOKEN_ENV = "HARMONE_SERVE_TOKEN"
DEFAULT_KEEP_RECORDS = 100_000
DEFAULT_MAX_BODY = 1_048_576
MIN_TOKEN_CHARS = 16


class ServeError(HarmoneError):
    """The server cannot start as asked; the message names the flag, file or setting."""


@dataclass(frozen=True)
class DeliverySettings:
    """Tactic POSTs: per-attempt timeout, attempts, and the backoff between attempts."""

    timeout_s: float = 5.0
    attempts: int = 4
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    queue_size: int = 256

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): doubling, capped.

        >>> [DeliverySettings().delay(n) for n in (1, 2, 3, 6)]
        [0.5, 1.0, 2.0, 8.0]
        """
        return min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class ServeConfig:
    """Everything `harmone serve` was asked for, validated."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5000
    token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    keep_records: int = DEFAULT_KEEP_RECORDS
    cors_origins: tuple[str, ...] = ()
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    quiet: bool = False
    metrics_port: int | None = None  # Prometheus endpoint (harmone_tui/serve/metrics.py)
    metrics_host: str = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.4"), is_loopback("")
    (False, False, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(token_file: Path | None) -> str | None:
    """The token from ``--token-file`` (first line), else from the environment, else None."""
    if token_file is not None:
        try:
            text = token_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ServeError(f"--token-file {token_file}: cannot be read ({exc})") from None
        token = text.strip().splitlines()[0].strip() if text.strip() else ""
        where = f"--token-file {token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        where = TOKEN_ENV
        if not token:
            return None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ServeError(
            f"{where}: the token must be at least {MIN_TOKEN_CHARS} characters without spaces"
        )
    return token


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-local bind without a token (one line saying how to give one)."""
    if not is_loopback(host) and token is None:
        raise ServeError(
            f"--host {host}: binding to an address other than localhost needs a token; put one"
            f" in a file and pass --token-file FILE, or set {TOKEN_ENV}"
        )


def configured_keep_records() -> int:
    """``[serve] keep_records`` from settings.toml (telemetry records kept per system)."""
    path = paths.config_dir() / "settings.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DEFAULT_KEEP_RECORDS
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ServeError(f"{path}: not a readable TOML file ({exc})") from None
    section = data.get("serve", {})
    value = section.get("keep_records", DEFAULT_KEEP_RECORDS) if isinstance(section, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ServeError(f"{path}: serve.keep_records: must be a whole number >= 1, got {value!r}")
    return value
