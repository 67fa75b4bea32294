"""Fedify (TypeScript, @fedify/fedify 1.5.9) and jsonld.js 8.3.3 as an interop peer.

The npm packages are pinned by `fedify/package.json` and `fedify/package-lock.json` and
installed on first use with `npm ci --ignore-scripts` into
`$COMMONS_INTEROP_HOME/node/fedify-<hash of the two files>/`, under a lock, and reused while
the files do not change (like the Python peers' venvs in peers.py). `fedify/peer.mjs` runs
there with Node (Fedify 1.5 supports Node 20); it is reached only on 127.0.0.1 and refuses
any connection beyond loopback.

`FedifyPeer` drives it: `lookup` (a handle or URL, as Fedify's `lookupObject`), `parse`
(`Object.fromJsonLd`), `verify` (`verifyObject`, with the proof count), `canonize`
(jsonld.js URDNA2015 in safe mode, contexts from our bundle only), `follow`, `inbox` (what
Fedify's inbox accepted after verifying the HTTP signature), `moves` (what it did with each
account `Move`: followed the target, as Mastodon does), `sign` (a Note with Fedify's FEP-8b32
proof).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.interop.peers import (
    HERE,
    PeerError,
    VenvError,
    _clean_env,
    _context_documents,
    _PeerProcess,
    _tail,
    _venv_lock,
    interop_home,
)

FEDIFY_DIR = HERE / "fedify"
PACKAGE_FILES = ("package.json", "package-lock.json")
NPM_OPTIONS = ("--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")


class NodeUnavailable(VenvError):
    """Node.js or npm is missing, or the pinned packages cannot be installed."""


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def ensure_fedify_install(home: Path | None = None, timeout: float = 900.0) -> Path:
    """The directory holding the pinned node_modules (installed once, then reused)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeUnavailable("Node.js and npm are needed for the Fedify peer (not on PATH)")
    sources = [FEDIFY_DIR / name for name in PACKAGE_FILES]
    root = (home or interop_home()) / "node"
    target = root / f"fedify-{_digest(*sources)}"
    marker = target / "interop-installed"
    with _venv_lock(root, target.name):
        if marker.is_file() and (target / "node_modules" / "@fedify" / "fedify").is_dir():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for source in sources:
            shutil.copyfile(source, target / source.name)
        log_path = root / f"{target.name}.install.log"
        env = _clean_env()
        env["npm_config_cache"] = str(root / "npm-cache")
        with open(log_path, "w") as log:
            argv = [npm, "ci", *NPM_OPTIONS]
            log.write("$ " + " ".join(argv) + "\n")
            log.flush()
            try:
                code: int | str = subprocess.run(
                    argv, cwd=target, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout
                ).returncode
            except (subprocess.TimeoutExpired, OSError) as exc:
                code = repr(exc)
        if code != 0:
            raise NodeUnavailable(
                f"npm ci for the Fedify peer failed ({code}); "
                f"log {log_path}:\n{_tail(log_path, 30)}"
            )
        marker.write_text(_digest(*sources) + "\n")
    return target


def _install_script(target: Path) -> Path:
    """peer.mjs beside the node_modules it imports, named by its content (sessions share it)."""
    source = FEDIFY_DIR / "peer.mjs"
    script = target / f"peer-{_digest(source)}.mjs"
    if not script.exists():
        tmp = script.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(script)
    return script


class FedifyPeer(_PeerProcess):
    """A Fedify server with one actor, `alice`, on 127.0.0.1:<free port>."""

    name = "fedify"

    def __init__(self, *, workdir: Path | None = None, startup_timeout: float = 60.0) -> None:
        super().__init__(workdir=workdir, startup_timeout=startup_timeout)
        self.info: dict[str, Any] = {}

    def start(self) -> FedifyPeer:
        if self.running:
            return self
        target = ensure_fedify_install()
        script = _install_script(target)
        contexts = self.workdir / "contexts.json"
        contexts.write_text(json.dumps(_context_documents()))
        port_file = self.workdir / "port"
        port_file.unlink(missing_ok=True)
        argv = ["node", str(script), "--contexts", str(contexts), "--port-file", str(port_file)]
        self._log_handle = open(self.log_path, "ab")
        self._log_handle.write(("$ " + " ".join(argv) + "\n").encode())
        self._log_handle.flush()
        self.process = subprocess.Popen(
            argv,
            cwd=target,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if not port_file.is_file() or not port_file.read_text().strip():
                return False
            self.port = int(port_file.read_text())
            response = httpx.get(self.base_url + "/_harness/info", timeout=10, trust_env=False)
            if response.status_code == 200:
                self.info = response.json()
                return True
            return False

        self._wait_ready(ready, "Fedify answers /_harness/info")
        return self

    @property
    def actor_uri(self) -> str:
        return str(self.info["actor"])

    async def _call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        async with self._client(timeout=timeout) as client:
            response = await client.request(method, f"/_harness/{path}", json=body)
        if response.status_code != 200:
            raise self._fail(f"fedify {path} answered {response.status_code}: {response.text}")
        return response.json()

    async def lookup(self, identifier: str) -> dict[str, Any]:
        """`lookupObject(identifier)`: {found, object: {type, id, name, ...}, warnings}."""
        return await self._call("POST", "lookup", {"identifier": identifier})

    async def parse(self, document: Any) -> dict[str, Any]:
        return await self._call("POST", "parse", {"document": document})

    async def verify(self, document: Any) -> dict[str, Any]:
        """`verifyObject`: {proofs (in the JSON), parsedProofs (Fedify found), verified}."""
        return await self._call("POST", "verify", {"document": document})

    async def canonize(self, document: Any) -> dict[str, Any]:
        """jsonld.js URDNA2015 in safe mode: {nquads} or {error}."""
        return await self._call("POST", "canonize", {"document": document})

    async def follow(self, identifier: str) -> dict[str, Any]:
        return await self._call("POST", "follow", {"identifier": identifier})

    async def inbox(self) -> list[dict[str, Any]]:
        return list((await self._call("GET", "inbox"))["items"])

    async def moves(self) -> dict[str, Any]:
        """{moves: [{id, from, to, followed, unfollowed, refused}], following: {actor: Follow}}:
        what alice did with each Move (she follows a mover to its target, as Mastodon does)."""
        return await self._call("GET", "moves")

    async def sign(self, content: str) -> dict[str, Any]:
        """A Note signed by Fedify: {document, publicKeyJwk, keyId}."""
        return await self._call("POST", "sign", {"content": content})

    async def wait_for_inbox(self, predicate: Any, *, timeout: float = 20, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = [item for item in await self.inbox() if predicate(item)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise PeerError(
                    f"fedify inbox: no {what or 'matching activity'} after {timeout}s; "
                    f"inbox: {json.dumps(await self.inbox())[:3000]}\n{self.log_tail()}"
                )
            await asyncio.sleep(0.2)
