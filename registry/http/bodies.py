"""Reading request bodies: size limit first, then media type, then JSON."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from federation import safejson
from registry.core.errors import (
    N_,
    BadRequest,
    MalformedBody,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The raw body, refusing more than max_bytes without reading it all into memory."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_bytes:
                raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {max_bytes}")
        except ValueError:
            raise MalformedBody("the Content-Length header is not a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                N_("the body is over the limit of %(limit)s bytes"), params={"limit": max_bytes}
            )
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_json(request: Request, max_bytes: int) -> Any:
    content_type = request.headers.get("content-type", "")
    if not is_json_type(content_type):
        raise UnsupportedMediaType(
            N_("send the body as application/json (got %(got)s)"),
            params={"got": content_type or "no Content-Type"},
        )
    body = await read_limited(request, max_bytes)
    if not body.strip():
        raise MalformedBody(N_("the request body is empty; send a JSON object"))
    depth = request.app.state.runtime.settings.limits.max_json_depth
    try:
        data = safejson.loads(body, max_depth=depth)
    except safejson.TooDeep:
        raise BadRequest(
            f"the JSON nests deeper than {depth} levels",
            errors=[{"field": "", "message": f"at most {depth} levels of nesting"}],
        ) from None
    except safejson.JsonError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc.__cause__ or exc}") from None
    where = _nul_at(data) if b"\\u0000" in body else None
    if where is not None:
        raise Unprocessable(
            f"{where[:200] or 'the body'}: text must not contain NUL characters (\\u0000)",
            errors=[{"field": where, "message": "must not contain NUL characters"}],
        )
    return data


def _nul_at(value: Any, path: str = "") -> str | None:
    """The path of a string (or key) holding U+0000, which PostgreSQL cannot store."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return inner.replace("\x00", "\\u0000")
            found = _nul_at(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
