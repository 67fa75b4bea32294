"""A small HTTP/1.1 load generator on raw asyncio streams.

httpx spends more CPU per request than the server under test does on a trivial endpoint, so
the benchmarks send pre-built request bytes over keep-alive connections and parse only the
status line and Content-Length of each answer. Its own ceiling is measured against
`bench.sink` (see `generator_capacity`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


def request_bytes(
    method: str, path: str, host: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        if name.lower() != "host":
            lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class LoadResult:
    sent: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bytes_received: int = 0
    retried: int = 0  # answers of 429 that were sent again (`run(retry_busy=True)`)

    def status_counts(self) -> dict[str, int]:
        return {str(status): count for status, count in sorted(self.statuses.items())}

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """(status, bytes) of one response with a Content-Length body (all our servers send one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    if length:
        await reader.readexactly(length)
    return status, len(head) + length


async def run(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int = 16,
    duration: float | None = None,
    record_latency: bool = False,
    retry_busy: bool = False,
) -> LoadResult:
    """Send `requests` over `connections` keep-alive connections; each connection takes the
    next request when its previous answer has arrived. With `duration`, cycle through the
    requests until the time is up; otherwise send each once. With `retry_busy`, a request
    answered 429 is sent again a second later, as a fediverse server retries a delivery
    (`retried` counts them; only the final answers are in `statuses`)."""
    result = LoadResult()
    index = 0
    total = len(requests)
    started = time.perf_counter()
    deadline = started + duration if duration else None

    async def worker() -> None:
        nonlocal index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                if deadline is not None:
                    if time.perf_counter() >= deadline:
                        return
                    payload = requests[index % total]
                else:
                    if index >= total:
                        return
                    payload = requests[index]
                index += 1
                sent_at = time.perf_counter()
                writer.write(payload)
                status, size = await _read_response(reader)
                while retry_busy and status == 429:
                    result.retried += 1
                    await asyncio.sleep(1.0)  # the node's Retry-After for busy admission
                    writer.write(payload)
                    status, size = await _read_response(reader)
                if record_latency:
                    result.latencies.append(time.perf_counter() - sent_at)
                result.statuses[status] += 1
                result.bytes_received += size
                result.sent += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


async def latencies(host: str, port: int, requests: Sequence[bytes]) -> LoadResult:
    """One request at a time on one connection: the latency a single client sees."""
    return await run(host, port, requests, connections=1, record_latency=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
