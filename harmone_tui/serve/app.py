"""The ASGI application: both APIs, the bearer token, the body size limit, CORS, and errors as
one JSON line naming the field.

The token and size checks are plain ASGI middleware, so they run before FastAPI reads a body:
a request over the limit is refused from its Content-Length, or, without one (chunked), as soon
as the bytes read pass the limit. uvicorn itself refuses a body longer than its Content-Length.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harmone_tui import __version__
from harmone_tui.serve import harmonica_api, v1_api
from harmone_tui.serve.config import ServeConfig
from harmone_tui.serve.served import RequestProblem
from harmone_tui.serve.service import Service

DESCRIPTION = """The managing system of harmone: managed systems post telemetry, the MAPE-K loop
decides, tactics are posted to each system's adaptor. `/api/...` is Harmonica's API (its
managed systems work unchanged); `/v1/...` is harmone's own. See docs/serve.md."""


def _problem(status: int, message: str, field_name: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field_name}, status_code=status)


async def _send_problem(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message, "field": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Bearer token (when set) and body size limit, before anything else reads the request."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self.expected = f"Bearer {token}".encode() if token else None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if self.expected is not None and scope["method"] != "OPTIONS":
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await _send_problem(
                    send,
                    401,
                    "Authorization: a valid 'Bearer <token>' header is required",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _send_problem(
                send, 413, f"body: {int(length):,} bytes is over the limit of {self.max_body:,}"
            )
            return
        if length is not None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read it all here, counting, then hand it on. FastAPI
        # would turn an error raised while it reads the body into a 400 about parsing.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                await _send_problem(send, 413, f"body: over the limit of {self.max_body:,} bytes")
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """Pydantic's location as a dotted path without the leading 'body' (records[3].truth)."""
    out = ""
    for part in loc:
        if part in ("body", "query", "path") and not out:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def create_app(service: Service, config: ServeConfig) -> Guard:
    """The whole ASGI application (``.api`` is the FastAPI app inside the guard)."""
    app = FastAPI(
        title="harmone serve",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )  # the docs pages would load scripts from a CDN
    app.state.service = service
    app.include_router(harmonica_api.router)
    app.include_router(v1_api.router)

    @app.exception_handler(RequestProblem)
    async def problem(request: Request, exc: RequestProblem) -> JSONResponse:
        return _problem(exc.status, str(exc), exc.field)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = _field(first.get("loc", ()))
        kind = first.get("type", "")
        if kind == "json_invalid":
            return _problem(400, f"body: not valid JSON ({first.get('msg', '')})", "body")
        message = first.get("msg", "invalid")
        if kind == "missing":
            message = "required"
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            message = "must be a JSON object"
        return _problem(422, f"{where}: {message}", where)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, f"{request.url.path}: {exc.detail}")

    guarded: ASGIApp = app
    if config.cors_origins:
        guarded = CORSMiddleware(
            guarded,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return Guard(guarded, config.token, config.max_body_bytes, app)
