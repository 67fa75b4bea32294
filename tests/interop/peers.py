"""Independent ActivityPub implementations as test peers on 127.0.0.1.

Two peers, each run as a subprocess from its own virtualenv (their pins clash with ours:
bovine pins cryptography<46 and pyld<3):

* `PastureVerifier`: fediverse-pasture 0.2.25's verify_actor app. `await verify(uri)`
  makes its six test actors fetch the actor, POST to its inbox signed and unsigned, and
  check its WebFinger; `is_ideal(result)` compares with what a correct server gives.
* `BovineHerd`: a bovine-herd 0.5.19 server with one actor (`milkdrinker`). It can follow
  an actor, accept follows, publish a Note, and show its inbox/following/followers.

The virtualenvs are built on demand by `ensure_venv` under `$COMMONS_INTEROP_HOME`
(default `<repo>/.interop/`), from exact pins, and reused while their marker file matches.
Every peer binds a socket the harness bound to 127.0.0.1:<free port>, runs with
`loopback_guard` (no name lookup or connection beyond loopback), logs to a file in its work
directory, and is stopped by killing its process group. See README.md in this directory.

Example (pytest, with the fixtures of `tests/interop/conftest.py`)::

    async def test_follow(herd, our_server):
        follow_id = await herd.follow(f"{our_server}/actor")
        await herd.wait_for_inbox(lambda a: a.get("type") == "Accept", timeout=10)
        assert f"{our_server}/actor" in await herd.following()
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

HOME_ENV = "COMMONS_INTEROP_HOME"
"""Where the peers' virtualenvs live (default `<repo>/.interop`; not committed)."""
PYTHON_ENV = "COMMONS_INTEROP_PYTHON"
"""Interpreter the peer venvs are built with (default: this Python if 3.11, else python3.11)."""
REQUIRED_ENV = "COMMONS_INTEROP_REQUIRED"
"""Set to 1 to make a venv that cannot be built fail the tests instead of skipping them."""

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# Exact pins, the full dependency closure as pip resolved it on Python 3.11 (2026-11).
# Both lists are wheels only (installed with --only-binary=:all:).
HERD_REQUIREMENTS: tuple[str, ...] = (
    "bovine-herd==0.5.19",
    "bovine==0.5.19",
    "bovine-process==0.5.19",
    "bovine-store==0.5.19",
    "aiodns==3.6.1",
    "aiofiles==25.1.0",
    "aiohappyeyeballs==2.7.1",
    "aiohttp==3.14.5",
    "aiosignal==1.4.0",
    "aiosqlite==0.20.0",
    "annotated-types==0.8.0",
    "asyncpg==0.32.0",
    "asyncstdlib==3.14.0",
    "attrs==26.1.0",
    "based58==0.1.1",
    "beautifulsoup4==4.15.0",
    "blinker==1.9.0",
    "cachetools==8.0.1",
    "certifi==2026.10.18",
    "cffi==2.1.1",
    "charset-normalizer==3.5.2",
    "click==8.5.1",
    "cryptography==45.0.7",
    "Flask==3.1.3",
    "frozendict==2.5.1",
    "frozenlist==1.8.0",
    "h11==0.16.0",
    "h2==4.4.1",
    "hpack==4.2.0",
    "http-sf==1.5.0",
    "Hypercorn==0.18.0",
    "hyperframe==6.1.0",
    "idna==3.20",
    "iso8601==2.1.0",
    "itsdangerous==2.2.0",
    "jcs==0.2.1",
    "Jinja2==3.1.6",
    "lxml==6.1.3",
    "MarkupSafe==3.0.4",
    "multidict==7.2.1",
    "priority==2.0.0",
    "propcache==0.5.4",
    "pycares==4.11.0",
    "pycparser==3.12",
    "pydantic==2.14.3",
    "pydantic_core==2.50.4",
    "PyLD==2.0.4",
    "pypika-tortoise==0.2.2",
    "pytz==2026.6",
    "Quart==0.19.9",
    "requests==2.34.2",
    "soupsieve==4.1.2",
    "tomli_w==1.2.0",
    "tortoise-orm==0.21.7",
    "typing-inspection==0.4.5",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
    "Werkzeug==3.1.9",
    "wsproto==1.3.2",
    "yarl==1.25.1",
)

PASTURE_REQUIREMENTS: tuple[str, ...] = (
    "fediverse-pasture==0.2.25",
    "bovine==0.5.19",
    "aiodns==3.6.1",
    "aiofiles==25.1.0",
    "aiohappyeyeballs==2.7.1",
    "aiohttp==3.14.5",
    "aiosignal==1.4.0",
    "aiosqlite==0.22.1",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "asyncstdlib==3.14.0",
    "attrs==26.1.0",
    "based58==0.1.1",
    "beautifulsoup4==4.15.0",
    "blinker==1.9.0",
    "cachetools==8.0.1",
    "certifi==2026.10.18",
    "cffi==2.1.1",
    "charset-normalizer==3.5.2",
    "click==8.5.1",
    "cryptography==45.0.7",
    "Flask==3.1.3",
    "frozendict==2.5.1",
    "frozenlist==1.8.0",
    "h11==0.16.0",
    "h2==4.4.1",
    "hpack==4.2.0",
    "http-sf==1.5.0",
    "Hypercorn==0.18.0",
    "hyperframe==6.1.0",
    "idna==3.20",
    "iso8601==2.1.0",
    "itsdangerous==2.2.0",
    "jcs==0.2.1",
    "Jinja2==3.1.6",
    "lxml==6.1.3",
    "MarkupSafe==3.0.4",
    "multidict==7.2.1",
    "pillow==13.0.0",
    "priority==2.0.0",
    "propcache==0.5.4",
    "pycares==4.11.0",
    "pycparser==3.12",
    "pydantic==2.14.3",
    "pydantic_core==2.50.4",
    "PyLD==2.0.4",
    "pypika-tortoise==0.6.5",
    "Quart==0.22.0",
    "requests==2.34.2",
    "soupsieve==4.1.2",
    "tomli_w==1.2.0",
    "tortoise-orm==1.1.9",
    "typing-inspection==0.4.5",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
    "uvicorn==0.54.0",
    "Werkzeug==3.1.9",
    "wsproto==1.3.2",
    "yarl==1.25.1",
)

PEER_PYTHON_VERSION = (3, 11)
"""fediverse-pasture 0.2.25 runs on 3.11 (only fediverse-pasture-inputs 0.3.5 needs 3.13,
and verify_actor does not use it); bovine-herd 0.5.19 too. One interpreter for both."""

PIP_OPTIONS: tuple[str, ...] = (
    "--disable-pip-version-check",
    "--no-input",
    "--progress-bar",
    "off",
    "--only-binary=:all:",
)

T = TypeVar("T")


class InteropError(RuntimeError):
    """A peer could not be set up or misbehaved (message includes the relevant log)."""


class VenvError(InteropError):
    """A peer virtualenv could not be created (e.g. PyPI unreachable, a pin vanished)."""


class PeerError(InteropError):
    """A peer process failed to start, died, or a control call failed."""


# --------------------------------------------------------------------------- venvs


def interop_home() -> Path:
    """The cache directory for peer venvs: `$COMMONS_INTEROP_HOME` or `<repo>/.interop`."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / ".interop"


def default_python() -> str:
    """The interpreter peer venvs are built from (see PEER_PYTHON_VERSION, PYTHON_ENV)."""
    configured = os.environ.get(PYTHON_ENV)
    if configured:
        return configured
    if sys.version_info[:2] == PEER_PYTHON_VERSION:
        return sys.executable
    name = "python{}.{}".format(*PEER_PYTHON_VERSION)
    found = shutil.which(name)
    if not found:
        raise VenvError(f"no {name} on PATH for the interop peers (set {PYTHON_ENV})")
    return found


def _base_interpreter(python: str) -> tuple[str, str]:
    """(real path of the base interpreter, its version): a venv's python resolves to the
    interpreter it was made from, so the marker does not depend on where our venv lives."""
    probe = (
        "import platform, sys; "
        "print(getattr(sys, '_base_executable', None) or sys.executable); "
        "print(platform.python_version())"
    )
    try:
        out = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError) as exc:
        raise VenvError(f"cannot run interpreter {python!r}: {exc}") from exc
    return os.path.realpath(out[0].strip()), out[1].strip()


_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@contextlib.contextmanager
def _venv_lock(root: Path, name: str):
    """Exclusive per-venv lock across threads and processes (pytest-xdist, two sessions)."""
    with _thread_locks_guard:
        tlock = _thread_locks.setdefault(name, threading.Lock())
    with tlock:
        root.mkdir(parents=True, exist_ok=True)
        with open(root / f"{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(
    name: str,
    requirements: Sequence[str],
    python: str | None = None,
    *,
    home: Path | None = None,
    timeout: float = 900.0,
) -> Path:
    """Return `<home>/venvs/<name>`, a virtualenv with exactly `requirements` installed.

    Idempotent: the venv is reused while its marker file (`interop-requirements.txt`, the
    base interpreter, its version, pip options and the pins) matches; otherwise it is
    deleted and rebuilt with `python -m venv` + `pip install`. Serialised by a lock file
    per venv, so parallel callers wait for one build. Raises VenvError (with the tail of
    the pip log, kept in `<home>/venvs/<name>.install.log`) when the build fails.
    """
    root = (home or interop_home()) / "venvs"
    venv = root / name
    marker = venv / "interop-requirements.txt"
    base, version = _base_interpreter(python or default_python())
    wanted = "\n".join(
        [
            f"# commons-registry interop peer venv {name!r}; rebuilt when this file differs",
            f"# python {version} {base}",
            f"# pip {' '.join(PIP_OPTIONS)}",
            *requirements,
            "",
        ]
    )
    with _venv_lock(root, name):
        if marker.is_file() and venv_python(venv).exists() and marker.read_text() == wanted:
            return venv
        if venv.exists():
            shutil.rmtree(venv)
        log_path = root / f"{name}.install.log"
        env = _clean_env()
        with open(log_path, "w") as log:
            log.write(f"$ {base} -m venv {venv}\n")
            log.flush()
            steps = [
                [base, "-m", "venv", str(venv)],
                [str(venv_python(venv)), "-m", "pip", "install", *PIP_OPTIONS, *requirements],
            ]
            for argv in steps:
                log.write("$ " + " ".join(argv) + "\n")
                log.flush()
                try:
                    proc = subprocess.run(
                        argv, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout
                    )
                    code: int | str = proc.returncode
                except subprocess.TimeoutExpired:
                    code = f"timeout after {timeout:.0f}s"
                except OSError as exc:
                    code = repr(exc)
                if code != 0:
                    log.flush()
                    raise VenvError(
                        f"building interop venv {name!r} failed ({argv[2]}: {code}); "
                        f"log {log_path}:\n{_tail(log_path, 30)}"
                    )
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(wanted)
        tmp.replace(marker)
    return venv


def ensure_herd_venv(python: str | None = None) -> Path:
    return ensure_venv("herd", HERD_REQUIREMENTS, python)


def ensure_pasture_venv(python: str | None = None) -> Path:
    return ensure_venv("pasture", PASTURE_REQUIREMENTS, python)


# --------------------------------------------------------------------------- helpers


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _clean_env() -> dict[str, str]:
    """Environment for pip and the peers: none of our venv, no proxies for loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def bind_loopback_socket() -> socket.socket:
    """A TCP socket bound to 127.0.0.1:<free port>, inheritable, for a peer to listen on.

    Passing the bound socket (hypercorn `fd://N`) instead of a port number means no other
    process can grab the port between choosing it and the peer starting to listen.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.set_inheritable(True)
    return sock


def _context_documents() -> dict[str, Any]:
    """JSON-LD contexts to pre-seed bovine's context cache with (no network in tests)."""
    documents: dict[str, Any] = {}
    try:
        from pyld.documentloader.frozen import BUNDLED_CONTEXTS

        for url, path in BUNDLED_CONTEXTS.items():
            documents[url] = json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception:  # pragma: no cover - pyld >= 3.3 is a project dependency
        pass
    try:
        from vocab.loader import BUNDLED

        documents.update(BUNDLED)
    except Exception:  # pragma: no cover
        pass
    return documents


def seed_jsonld_cache(workdir: Path, extra_contexts: Mapping[str, Any] | None = None) -> Path:
    """Write `bovine_jsonld_cache.sqlite` (bovine.jsonld's context cache, read from the
    process's current directory at import) with the security/DID/multikey/data-integrity
    contexts and our commons context, so bovine compacts our documents as it would online.

    The ActivityStreams context is left out on purpose: bovine serves its own copy of it
    (with `"@vocab": "_:"`) and seeding the official one would change its behaviour.
    Without the seed, each missing context fails to load (loopback_guard refuses the name
    lookup), bovine logs a warning and caches `[]` for it, and compacts with unknown terms
    (the libraries.md "b0, b1, b2" keys): harmless for the flows, but not what it does online.
    """
    documents = {**_context_documents(), **dict(extra_contexts or {})}
    documents.pop(AS_CONTEXT, None)
    path = workdir / "bovine_jsonld_cache.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE IF NOT EXISTS jsonld (url TEXT PRIMARY KEY, context TEXT)")
        db.executemany(
            "INSERT OR REPLACE INTO jsonld VALUES (?, ?)",
            [
                (url, json.dumps(doc.get("@context", doc) if isinstance(doc, dict) else doc))
                for url, doc in documents.items()
            ],
        )
        db.commit()
    return path


async def wait_until(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.2,
    what: str = "condition",
    log: Callable[[], str] | None = None,
) -> T:
    """Await `probe()` until it returns something truthy; AssertionError after `timeout`
    (with the last value or error and, if given, a peer log in the message)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = await probe()
        except Exception as exc:  # a transient failure; reported if it persists
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            message = f"timed out after {timeout:.1f}s waiting for {what}; last: {last!r}"
            if log is not None:
                message += "\n--- peer log (tail) ---\n" + log()
            raise AssertionError(message)
        await asyncio.sleep(interval)


# --------------------------------------------------------------------------- processes


class _PeerProcess:
    """A peer subprocess in its own process group, logging to `<workdir>/<name>.log`."""

    name = "peer"

    def __init__(self, *, workdir: Path | None = None, startup_timeout: float = 60.0):
        self._own_workdir = workdir is None
        self.workdir = (
            Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"interop-{self.name}-"))
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"{self.name}.log"
        self._log_handle: Any = None

    # -- lifecycle

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise PeerError(f"{self.name} is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self, argv: Sequence[str], sock: socket.socket) -> None:
        self._log_handle = open(self.log_path, "ab")
        self._log_handle.write(("$ " + " ".join(map(str, argv)) + "\n").encode())
        self._log_handle.flush()
        try:
            self.process = subprocess.Popen(
                list(map(str, argv)),
                cwd=self.workdir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=self._log_handle,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                start_new_session=True,  # own process group: stop() kills the whole group
            )
        finally:
            sock.close()  # the child holds its copy
        atexit.register(self.stop)

    def _wait_ready(self, probe: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last: Any = None
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise PeerError(
                    f"{self.name} exited (code {code}) before {what}; log {self.log_path}:\n"
                    + self.log_tail()
                )
            try:
                if probe():
                    return
            except (httpx.HTTPError, OSError, ValueError) as exc:
                last = exc
            time.sleep(0.1)
        self.stop()
        raise PeerError(
            f"{self.name} not ready ({what}) after {self.startup_timeout:.0f}s; last: {last!r}; "
            f"log {self.log_path}:\n" + self.log_tail()
        )

    def stop(self) -> None:
        """Terminate the peer's process group (SIGTERM, then SIGKILL after 5 s)."""
        proc, self.process = self.process, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            # children left in the group (none expected) go too
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            atexit.unregister(self.stop)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def cleanup(self) -> None:
        """stop(), and delete the work directory if the harness created it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)

    def start(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    async def astart(self):
        """start() in a worker thread, for async fixtures (keeps the event loop free)."""
        return await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def __aenter__(self):
        return await self.astart()

    async def __aexit__(self, *exc_info) -> None:
        await self.astop()

    def _client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, trust_env=False)

    def _fail(self, message: str) -> PeerError:
        return PeerError(
            f"{message}\n--- {self.name} log (tail) {self.log_path} ---\n{self.log_tail()}"
        )


# --------------------------------------------------------------------------- pasture

PASTURE_ACTORS = ("alice", "bob", "claire", "dean", "emily", "frank")

IDEAL_PASTURE_RESULT: dict[str, Any] = {
    # unsigned GET of the actor works; unsigned POST to the inbox must be refused
    "alice": {"get_actor": True, "post_inbox": False},
    # signed POST (key fetched from bob's public actor) accepted
    "bob": {"get_actor": True, "post_inbox": True},
    # signed POST accepted although claire's actor document needs a signed GET
    # (the server must fetch keys with its own signature: authorized fetch)
    "claire": {"get_actor": True, "post_inbox": True},
    # as alice, but dean has no WebFinger account
    "dean": {"get_actor": True, "post_inbox": False},
    # as bob, without WebFinger account
    "emily": {"get_actor": True, "post_inbox": True},
    # as claire, without WebFinger account
    "frank": {"get_actor": True, "post_inbox": True},
    # acct:<preferredUsername>@<host:port of the actor id> resolves to the actor id
    "webfinger": True,
}
"""What fediverse-pasture's verify_actor reports for a correct server (libraries.md §4)."""

_WHY = {
    ("alice", "post_inbox"): "an unsigned POST to the inbox must be rejected (4xx)",
    ("dean", "post_inbox"): "an unsigned POST to the inbox must be rejected (4xx)",
    ("bob", "post_inbox"): "a signed POST must be accepted (key from a public actor)",
    ("emily", "post_inbox"): "a signed POST must be accepted (key from a public actor)",
    ("claire", "post_inbox"): "a signed POST must be accepted; the key's actor needs a signed GET",
    ("frank", "post_inbox"): "a signed POST must be accepted; the key's actor needs a signed GET",
}


def _inner_result(result: Mapping[str, Any]) -> Mapping[str, Any]:
    return (
        result["result"] if "result" in result and isinstance(result["result"], Mapping) else result
    )


def is_ideal(result: Mapping[str, Any]) -> tuple[bool, str]:
    """Compare a `PastureVerifier.verify()` answer (or its "result" part) with
    IDEAL_PASTURE_RESULT. Returns (True, summary) or (False, one line per deviation)."""
    inner = _inner_result(result)
    problems = []
    for actor in PASTURE_ACTORS:
        got = inner.get(actor)
        if not isinstance(got, Mapping):
            problems.append(f"{actor}: missing from the result")
            continue
        for check, expected in IDEAL_PASTURE_RESULT[actor].items():
            if bool(got.get(check)) != expected:
                why = _WHY.get((actor, check)) or (
                    "the actor must be retrievable"
                    + (" (unsigned GET)" if actor in ("alice", "dean") else " (signed GET)")
                )
                problems.append(
                    f"{actor}.{check}: expected {expected}, got {got.get(check)} ({why})"
                )
    if inner.get("webfinger") is not True:
        problems.append(
            "webfinger: expected True, got "
            f"{inner.get('webfinger')!r} (acct:<preferredUsername>@<host:port> must resolve, "
            "over http, to exactly the actor id, "
            "with a self link of type application/activity+json)"
        )
    if problems:
        return False, "\n".join(problems)
    return True, format_result(result)


def format_result(result: Mapping[str, Any]) -> str:
    """One line: `alice get✓ post✗ | bob get✓ post✓ | ... | webfinger ✓`."""
    inner = _inner_result(result)
    mark = {True: "✓", False: "✗"}
    parts = []
    for actor in PASTURE_ACTORS:
        got = inner.get(actor) or {}
        parts.append(
            f"{actor} get{mark.get(bool(got.get('get_actor')))}"
            f" post{mark.get(bool(got.get('post_inbox')))}"
        )
    parts.append(f"webfinger {mark.get(inner.get('webfinger') is True)}")
    return " | ".join(parts)


class PastureVerifier(_PeerProcess):
    """fediverse-pasture's verify_actor, served on 127.0.0.1:<free port>.

    Its actors are `http://127.0.0.1:<port>/alice` ... `/frank` (plain http; key ids
    `<actor>#main`, RSA 2048; bovine's cavage signatures). Usage::

        verifier = PastureVerifier().start()
        result = await verifier.verify("http://127.0.0.1:8000/actor")
        ok, why = is_ideal(result)
        verifier.stop()
    """

    name = "pasture"

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        request_timeout: float = 10.0,
        startup_timeout: float = 60.0,
        python: str | None = None,
        extra_contexts: Mapping[str, Any] | None = None,
    ):
        super().__init__(workdir=workdir, startup_timeout=startup_timeout)
        self.request_timeout = request_timeout
        self.python = python
        self.extra_contexts = extra_contexts
        self.venv: Path | None = None

    def start(self) -> PastureVerifier:
        if self.running:
            return self
        self.venv = ensure_pasture_venv(self.python)
        seed_jsonld_cache(self.workdir, self.extra_contexts)
        sock = bind_loopback_socket()
        self.port = sock.getsockname()[1]
        self._spawn(
            [
                venv_python(self.venv),
                HERE / "pasture_launcher.py",
                "--fd",
                sock.fileno(),
                "--port",
                self.port,
                "--timeout",
                self.request_timeout,
            ],
            sock,
        )

        def ready() -> bool:
            return httpx.get(self.base_url + "/", timeout=2, trust_env=False).status_code == 200

        self._wait_ready(ready, "GET / answers 200")
        return self

    def actor_uri(self, name: str) -> str:
        """`http://127.0.0.1:<port>/<name>` for alice … frank (and `actor`, its app actor)."""
        return f"{self.base_url}/{name}"

    async def verify(self, actor_uri: str, *, only: Iterable[str] | None = None) -> dict[str, Any]:
        """Run verify_actor against `actor_uri` (http(s) URI, or `acct:user@host:port`).

        Returns `{"result": {"alice": {"get_actor": bool, "post_inbox": bool}, ...,
        "webfinger": bool}, "messages": [str, ...]}` (messages: pasture's step log).
        `only`: restrict to some of alice … frank (webfinger is always checked).
        """
        params = {"actor_uri": actor_uri}
        for name in only or ():
            params[f"only_{name}"] = "1"
        # seven checks in sequence, each bounded by request_timeout inside pasture
        async with self._client(timeout=8 * self.request_timeout + 10) as client:
            try:
                response = await client.get(
                    "/", params=params, headers={"Accept": "application/json"}
                )
            except httpx.HTTPError as exc:
                raise self._fail(f"verify_actor request failed: {exc!r}") from exc
        if response.status_code != 200:
            raise self._fail(f"verify_actor answered {response.status_code}: {response.text[:500]}")
        try:
            data = response.json()
            steps = json.loads(data.get("messages") or "{}").get("steps", [])
        except ValueError as exc:
            raise self._fail(f"verify_actor did not answer JSON: {response.text[:500]}") from exc
        return {"result": data["result"], "messages": [str(step) for step in steps]}


# --------------------------------------------------------------------------- bovine-herd


class BovineHerd(_PeerProcess):
    """A bovine-herd server on 127.0.0.1:<free port> with one actor, driven through its
    `/_harness/` control API (see herd_launcher.py), which uses `bovine.BovineClient`
    with Moo-Auth-1 inside the herd venv.

    The actor's id is `http://127.0.0.1:<port>/endpoints/<random>` (`actor_uri`); its
    acct is `acct:<handle>@127.0.0.1:<port>`. bovine-herd does not accept follows by itself:
    call `accept_follows()` to have the actor send Accepts for the Follows in its inbox.
    """

    name = "herd"

    def __init__(
        self,
        handle: str = "milkdrinker",
        *,
        workdir: Path | None = None,
        startup_timeout: float = 60.0,
        python: str | None = None,
        extra_contexts: Mapping[str, Any] | None = None,
        log_level: str = "INFO",
    ):
        super().__init__(workdir=workdir, startup_timeout=startup_timeout)
        self.handle = handle
        self.python = python
        self.extra_contexts = extra_contexts
        self.log_level = log_level
        self.venv: Path | None = None
        self.info: dict[str, Any] = {}
        self.secret: str | None = None
        """Moo-Auth-1 secret (Ed25519, multibase) for
        `BovineClient(domain=base_url, secret=...)`."""
        self._accepted: set[str] = set()

    def start(self) -> BovineHerd:
        if self.running:
            return self
        self.venv = ensure_herd_venv(self.python)
        seed_jsonld_cache(self.workdir, self.extra_contexts)
        sock = bind_loopback_socket()
        self.port = sock.getsockname()[1]
        state = self.workdir / "state.json"
        state.unlink(missing_ok=True)  # a new port means a new domain: register afresh
        for stale in self.workdir.glob("herd.sqlite3*"):
            stale.unlink()
        self._spawn(
            [
                venv_python(self.venv),
                HERE / "herd_launcher.py",
                "--fd",
                sock.fileno(),
                "--port",
                self.port,
                "--handle",
                self.handle,
                "--db",
                "herd.sqlite3",
                "--state",
                state.name,
                "--log-level",
                self.log_level,
            ],
            sock,
        )

        def ready() -> bool:
            response = httpx.get(self.base_url + "/_harness/info", timeout=10, trust_env=False)
            if response.status_code == 200:
                self.info = response.json()
                return True
            return False

        self._wait_ready(ready, "the actor is registered and Moo-Auth-1 login works")
        self.secret = json.loads(state.read_text())["secret"]
        return self

    # -- identity

    @property
    def actor_uri(self) -> str:
        return self._info("actor_uri")

    @property
    def acct(self) -> str:
        return f"acct:{self.handle}@127.0.0.1:{self.port}"

    @property
    def bovine_name(self) -> str:
        return self._info("bovine_name")

    @property
    def actor(self) -> dict[str, Any]:
        """The actor document (owner view, as BovineClient sees it)."""
        return self._info("actor")

    @property
    def inbox_uri(self) -> str:
        return self.actor["inbox"]

    @property
    def outbox_uri(self) -> str:
        return self.actor["outbox"]

    @property
    def followers_uri(self) -> str:
        return self.actor["followers"]

    @property
    def following_uri(self) -> str:
        return self.actor["following"]

    def _info(self, key: str) -> Any:
        if not self.info:
            raise PeerError("herd is not started")
        return self.info[key]

    # -- control API

    async def send(self, activity: Mapping[str, Any]) -> str:
        """POST `activity` to the actor's outbox (as its client, Moo-Auth-1); returns the
        id the herd gave it (Location). The herd then delivers it to the recipients."""
        async with self._client(timeout=30) as client:
            response = await client.post("/_harness/outbox", json=dict(activity))
        data = _json_or_none(response)
        if response.status_code != 200 or not data or not data.get("location"):
            raise self._fail(
                f"posting to the herd outbox failed ({response.status_code}): "
                f"{response.text[:1500]}"
            )
        return data["location"]

    async def collection(
        self, name: str, *, resolve: bool = False, embed: bool = False
    ) -> list[Any]:
        """Items of the actor's `inbox`, `outbox`, `followers` or `following`, oldest first.

        resolve: items as the stored objects instead of ids; embed: with their `object`
        (bovine keeps an embedded object, e.g. the Note of a Create, as a separate record)."""
        params = {"name": name, "resolve": "1" if resolve else "0", "embed": "1" if embed else "0"}
        async with self._client(timeout=30) as client:
            response = await client.get("/_harness/collection", params=params)
        data = _json_or_none(response)
        if response.status_code != 200 or data is None:
            raise self._fail(
                f"reading the herd's {name} failed ({response.status_code}): {response.text[:1500]}"
            )
        return list(data["items"])

    async def inbox_items(self) -> list[dict[str, Any]]:
        """Activities in the actor's inbox, oldest first, as bovine stored them: compacted
        with its `about:bovine` context (so `as:Public`, and lists for to/cc), with the
        `object` embedded again when bovine stored it too (a Create's object)."""
        items = await self.collection("inbox", resolve=True, embed=True)
        return [item if isinstance(item, dict) else {"id": item} for item in items]

    async def outbox_items(self) -> list[dict[str, Any]]:
        items = await self.collection("outbox", resolve=True, embed=True)
        return [item if isinstance(item, dict) else {"id": item} for item in items]

    async def following(self) -> list[str]:
        """Actor ids in the actor's following collection (filled when an Accept arrives)."""
        return [str(item) for item in await self.collection("following")]

    async def followers(self) -> list[str]:
        return [str(item) for item in await self.collection("followers")]

    async def follow(self, actor_uri: str) -> str:
        """Send `Follow(actor_uri)` from the herd actor; returns the Follow's id."""
        return await self.send(
            {
                "@context": AS_CONTEXT,
                "type": "Follow",
                "actor": self.actor_uri,
                "object": actor_uri,
                "to": [actor_uri],
            }
        )

    async def unfollow(self, actor_uri: str) -> str:
        """Send `Undo(Follow)` for the latest Follow of `actor_uri`; returns the Undo's id."""
        follows = [
            item
            for item in await self.collection("outbox", resolve=True)
            if isinstance(item, dict)
            if item.get("type") == "Follow" and _id(item.get("object")) == actor_uri
        ]
        if not follows:
            raise PeerError(f"the herd actor never followed {actor_uri}")
        return await self.send(
            {
                "@context": AS_CONTEXT,
                "type": "Undo",
                "actor": self.actor_uri,
                "object": _strip_context(follows[-1]),
                "to": [actor_uri],
            }
        )

    async def accept_follows(self) -> list[str]:
        """Accept every Follow of this actor in its inbox not accepted yet (bovine-herd
        has no auto-accept). Returns the ids of the Accepts sent."""
        sent = []
        for item in await self.collection("inbox", resolve=True):
            if (
                not isinstance(item, dict)
                or item.get("type") != "Follow"
                or _id(item.get("object")) != self.actor_uri
            ):
                continue
            follow_id = item.get("id")
            if not follow_id or follow_id in self._accepted:
                continue
            follower = _id(item.get("actor"))
            sent.append(
                await self.send(
                    {
                        "@context": AS_CONTEXT,
                        "type": "Accept",
                        "actor": self.actor_uri,
                        "object": _strip_context(item),
                        "to": [follower],
                    }
                )
            )
            self._accepted.add(follow_id)
        return sent

    async def publish_note(self, content: str, *, to: Sequence[str] | None = None) -> str:
        """Create a public Note addressed to the actor's followers (or to `to`); the herd
        delivers it to their inboxes. Returns the Create's id."""
        recipients = list(to) if to is not None else [self.followers_uri]
        return await self.send(
            {
                "@context": AS_CONTEXT,
                "type": "Create",
                "actor": self.actor_uri,
                "to": recipients,
                "cc": [PUBLIC],
                "object": {
                    "type": "Note",
                    "attributedTo": self.actor_uri,
                    "content": content,
                    "to": recipients,
                    "cc": [PUBLIC],
                },
            }
        )

    async def wait_for_inbox(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        *,
        timeout: float = 10.0,
        what: str = "an inbox item",
    ) -> dict[str, Any]:
        """Poll the inbox until an item satisfies `predicate`; returns it."""

        async def probe() -> dict[str, Any] | None:
            return next((item for item in await self.inbox_items() if predicate(item)), None)

        return await wait_until(probe, timeout=timeout, what=what, log=self.log_tail)

    async def wait_for(
        self, probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0, what: str = "condition"
    ) -> T:
        """`wait_until` with this herd's log in the failure message."""
        return await wait_until(probe, timeout=timeout, what=what, log=self.log_tail)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _strip_context(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "@context"}


def host_of(uri: str) -> str:
    """`host:port` of an http(s) URI (the authority pasture and bovine compare)."""
    return urlsplit(uri).netloc
