"""A request id for every request, carried into every log line written while answering it,
and log lines as JSON objects when `server.log_format = "json"`.

The id comes from the proxy's `X-Request-ID` when it is a short token (nginx: `$request_id`),
otherwise it is made here; it goes back in the response's `X-Request-ID` header, so one id
ties together the proxy's access log, our log lines and what the client saw.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Made ids: this process's random prefix and a counter, unique without asking the system's
# random source on every request (ids need not be secret, only distinct).
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):08x}"


def request_id_of(scope: Scope) -> str:
    """The proxy's `X-Request-ID` when it is a short token, else a new id."""
    given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
    text = given.decode("latin-1")
    return text if given and _ACCEPTABLE.fullmatch(text) else new_request_id()


def log_access(scope: Scope, status: int, started: float) -> None:
    """The access log line of one answered request (JSON mode), `started` by perf_counter."""
    client = scope.get("client") or ("-", 0)
    query = scope.get("query_string", b"").decode("latin-1")
    access_log.info(
        "%s %s %s %d %.1fms",
        client[0],
        scope["method"],
        scope["path"] + (f"?{query}" if query else ""),
        status,
        (time.perf_counter() - started) * 1000,
    )


access_log = logging.getLogger("registry.access")


class RequestIdMiddleware:
    """Sets the request id; with `access_log`, writes one line per answered request (used in
    JSON mode instead of uvicorn's access log, which runs outside the request's context)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        token = request_id.set(rid)
        started, status = time.perf_counter(), 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                log_access(scope, status, started)
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601 Z), level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def uvicorn_log_config(level: str) -> dict:
    """uvicorn's logging in JSON mode: its own messages as JSON, its access log off (our
    middleware writes one with the request id), and a JSON root handler for our loggers."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
