"""What several commands share: the engine, the federation runtime, progress, passwords, samples."""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from argparse import Namespace
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import samples
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for
from registry.cli.table import Run
from registry.config import Settings
from registry.core import db, migrate
from registry.fediverse.federation import Federation
from registry.runtime import Runtime

SAMPLE_NAMES = sorted(samples.SAMPLES)


class Progress:
    """A one-line progress bar on a terminal; a line every 10% otherwise (logs, CI)."""

    def __init__(self, label: str, total: int | None, stream: Any = sys.stderr) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self.last_decile = -1

    def __call__(self, done: int) -> None:
        if not self.total:
            return
        fraction = min(1.0, done / self.total)
        if self.tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total}")
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self.stream.write(f"{self.label}: {done}/{self.total} ({fraction:.0%})\n")


def with_engine(
    settings: Settings, work: Callable[[AsyncEngine], Awaitable[int]], check: bool = True
) -> int:
    """Run `work` on an engine, first checking that the schema is current (unless told not)."""

    async def run() -> int:
        engine = db.create_engine(settings.database_url, pool_size=settings.database.pool_size)
        try:
            if check:
                await migrate.check_schema(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return run_loop(run())


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine on uvloop, as uvicorn runs the web server, where it is
    installed (a dependency wherever it has wheels), else on the stdlib loop. The worker and
    the sync hand every SQLite statement to aiosqlite's thread and back; the stdlib loop's
    wake-up through its self-pipe cost B1's workers about 4 % of their CPU."""
    try:
        from uvloop import new_event_loop
    except ImportError:  # not built for this platform
        new_event_loop = None
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


def with_federation(
    settings: Settings, work: Callable[[Runtime, Federation], Awaitable[int]]
) -> int:
    """Run `work` with the node's federation started, its background workers left off."""

    async def start(engine: AsyncEngine) -> int:
        runtime = Runtime.build(settings, engine)
        federation = await runtime.start_federation(run_workers=False)
        try:
            return await work(runtime, federation)
        finally:
            await runtime.stop_federation()

    return with_engine(settings, start)


def on_engine(work: Callable[[AsyncEngine, Namespace], Awaitable[int]]) -> Run:
    """A command whose work is `async (engine, args)`, run with `with_engine`."""

    @functools.wraps(work)  # keeps its name and module: the handler is found where it is written
    def run(settings: Settings, args: Namespace) -> int:
        return with_engine(settings, lambda engine: work(engine, args))

    return run


def on_federation(work: Callable[[Runtime, Federation, Namespace], Awaitable[int]]) -> Run:
    """A command whose work is `async (runtime, federation, args)`, run with `with_federation`."""

    @functools.wraps(work)
    def run(settings: Settings, args: Namespace) -> int:
        return with_federation(settings, lambda runtime, fed: work(runtime, fed, args))

    return run


def where(settings: Settings) -> str:
    """The database named without its password."""
    url = settings.database_url
    return url.split("@")[-1] if "@" in url else url


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("password: ")
    if getpass.getpass("the same password again: ") != password:
        raise SystemExit("the passwords differ; nothing was changed")
    return password


async def load_sample(settings: Settings, engine: AsyncEngine, name: str) -> int:
    sample = samples.get(name)
    started = time.monotonic()
    total = sum(1 for _ in _sample_rows(sample))
    report = await samples.load(
        AssetService(engine, settings), sample, Progress(f"loading the {name} sample", total)
    )
    for line in report.lines():
        print(line)
    print(
        f"sample {name!r} loaded as group {sample.group_slug} in {time.monotonic() - started:.1f} s"
    )
    print(f"attribution: {sample.attribution} (licence text: {sample.licence_path.name})")
    print(f"remove it, with its group, by `commons-registry sample remove {name}`")
    return 0


def _sample_rows(sample: Any) -> Any:
    return adapter_for(sample.path, sample.format).rows(sample.path)
