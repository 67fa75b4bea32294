"""A minimal HTTP/1.1 server on raw asyncio: answers every request at once and counts it.

Used as the delivery targets of B4 (it verifies nothing) and, as a separate process, to
measure the load generator's own ceiling. `python -m bench.sink PORT [PORT ...]`.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

ANSWER = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class Sink:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()  # path -> requests
        self.servers: list[asyncio.base_events.Server] = []

    @property
    def total(self) -> int:
        return sum(self.received.values())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                path = head.split(b" ", 2)[1].decode("latin-1")
                self.received[path] += 1
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def listen(self, port: int = 0) -> int:
        """Listen on `port` (0: one the kernel picks, never one taken meanwhile); returns it."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.servers.append(server)
        return server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        self.servers = []


async def _main(ports: list[int]) -> None:
    sink = Sink()
    for port in ports:
        await sink.listen(port)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main([int(p) for p in sys.argv[1:]]))
