"""Run one bovine-herd server on 127.0.0.1 with one registered actor (test peer).

Runs inside the herd virtualenv (bovine-herd 0.5.19 and its pinned dependencies), started by
`tests.interop.peers.BovineHerd`; our own venv cannot import bovine. Usage:

    <herd-venv>/bin/python herd_launcher.py --fd N --port P --handle milkdrinker \
        --db herd.sqlite3 --state state.json

`--fd` is a socket the harness already bound to 127.0.0.1:P (so no other process can take
the port between picking it and serving). The current directory should be a scratch
directory: bovine keeps its JSON-LD context cache (`bovine_jsonld_cache.sqlite`) there.

What it does:
1. creates the SQLite store and registers `--handle` with `--domain http://127.0.0.1:P` (as
   `python -m bovine_store register` would), adds an Ed25519 did:key for Moo-Auth-1 (as
   `python -m bovine_store key --new` would) and writes actor id, bovine name and the secret
   to `--state`;
2. serves the Quart app with `BovineHerd(app)` on the socket with hypercorn;
3. adds a small control API under `/_harness/` that drives the actor the way a user's client
   would: through a `bovine.BovineClient` logged in with Moo-Auth-1 over HTTP to this server
   (posting to the actor's outbox); collections are read from the herd's store (see below).

    GET  /_harness/info                      actor id, bovine name, the actor (owner view)
    POST /_harness/outbox                    JSON activity -> posted to the outbox
    GET  /_harness/collection?name=inbox     items of inbox|outbox|followers|following, in
         [&resolve=1][&embed=1]              arrival order, read from the herd's store
                                             (resolve=1: items as stored objects, not ids;
                                             embed=1: their `object` too, when stored)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

import loopback_guard  # noqa: F401  (first: confine this process to 127.0.0.1)

logger = logging.getLogger("herd_launcher")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fd", type=int, required=True, help="listening socket bound by the harness"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--handle", default="milkdrinker")
    parser.add_argument("--db", default="herd.sqlite3")
    parser.add_argument("--state", default="state.json")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args()


async def register_actor(db_url: str, domain: str, handle: str, state_path: Path) -> dict:
    """Create tables, register the actor and a Moo-Auth-1 key (idempotent per state file)."""
    from bovine.crypto import generate_ed25519_private_key, private_key_to_did_key
    from bovine_store import bovine_admin_store
    from bovine_store.models import BovineActor
    from bovine_store.types import EndpointType
    from tortoise import Tortoise

    if state_path.exists():
        return json.loads(state_path.read_text())

    async with bovine_admin_store(db_url=db_url, domain=domain) as store:
        await Tortoise.generate_schemas()
        bovine_name = await store.register(handle)
        secret = generate_ed25519_private_key()
        did_key = private_key_to_did_key(secret)
        await store.add_identity_string_to_actor(
            bovine_name, did_key.removeprefix("did:key:"), did_key
        )
        actor = await BovineActor.get(bovine_name=bovine_name).prefetch_related("endpoints")
        endpoints = {e.endpoint_type: e.name for e in actor.endpoints}

    state = {
        "base_url": domain,
        "handle": handle,
        "bovine_name": bovine_name,
        "actor_uri": endpoints[EndpointType.ACTOR],
        "inbox": endpoints[EndpointType.INBOX],
        "outbox": endpoints[EndpointType.OUTBOX],
        "secret": secret,
        "did_key": did_key,
    }
    tmp = state_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(state_path)
    return state


def build_app(db_url: str, state: dict):
    from bovine import BovineClient
    from bovine_herd import BovineHerd
    from quart import Blueprint, Quart, current_app, jsonify, request

    app = Quart("herd_launcher")
    BovineHerd(app, db_url=db_url)

    harness = Blueprint("harness", "herd_launcher", url_prefix="/_harness")
    client_lock = asyncio.Lock()

    async def client() -> BovineClient:
        # Created on first use: BovineClient.init looks our did:key up through WebFinger
        # and fetches the actor, i.e. it needs the server to be serving already.
        async with client_lock:
            if "harness_client" not in current_app.config:
                bovine_client = BovineClient(domain=state["base_url"], secret=state["secret"])
                await bovine_client.init(session=current_app.config["session"])
                current_app.config["harness_client"] = bovine_client
            return current_app.config["harness_client"]

    def failure(exc: BaseException, status: int = 500):
        logger.error("control API failure: %r", exc)
        traceback.print_exc()
        return jsonify({"error": repr(exc), "traceback": traceback.format_exc()}), status

    @harness.get("/info")
    async def info():
        try:
            bovine_client = await client()
        except Exception as exc:  # not ready yet, or broken: the harness shows it
            return failure(exc, 503)
        return jsonify(
            {
                **{k: v for k, v in state.items() if k != "secret"},
                "actor": bovine_client.information,
            }
        )

    @harness.post("/outbox")
    async def outbox():
        try:
            bovine_client = await client()
            activity = await request.get_json(force=True)
            response = await bovine_client.send_to_outbox(activity)
            body = await response.text()
            return jsonify(
                {
                    "status": response.status,
                    "location": response.headers.get("location"),
                    "body": body,
                }
            ), (200 if response.status < 400 else 502)
        except Exception as exc:
            return failure(exc)

    @harness.get("/collection")
    async def collection():
        # Read from the herd's own store, in this process. bovine's client-side ways of
        # reading a collection do not work for polling: through proxyUrl the collection is
        # cached as a remote object for a day (stale), and Moo-Auth-1 signs the query string
        # of page URLs (`?first=1`, used from 10 items on) while the herd verifies the path
        # only, so every page request is refused.
        from bovine_store.models import CollectionItem, StoredJsonObject

        name = request.args.get("name", "inbox")
        resolve = request.args.get("resolve", "0") == "1"
        embed = request.args.get("embed", "0") == "1"
        try:
            bovine_client = await client()
            collection_id = bovine_client.information[name]
            rows = await CollectionItem.filter(part_of=collection_id).order_by("id").all()
            items = [row.object_id for row in rows]
            if resolve:
                resolved = []
                for object_id in items:
                    stored = await StoredJsonObject.get_or_none(id=object_id)
                    item = stored.content if stored else object_id
                    # bovine stores an embedded object (the Note of a Create, the Follow
                    # of an Accept) separately and keeps only its id: put it back
                    if embed and isinstance(item, dict) and isinstance(item.get("object"), str):
                        inner = await StoredJsonObject.get_or_none(id=item["object"])
                        if inner is not None:
                            item = {**item, "object": inner.content}
                    resolved.append(item)
                items = resolved
            return jsonify({"id": collection_id, "totalItems": len(items), "items": items})
        except Exception as exc:
            return failure(exc)

    app.register_blueprint(harness)
    return app


async def main() -> None:
    args = parse_args()
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiosqlite/tortoise at DEBUG drown everything else
    for noisy in ("tortoise", "aiosqlite", "hpack", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    domain = f"http://127.0.0.1:{args.port}"
    db_path = Path(args.db).resolve()
    db_url = f"sqlite://{db_path}"
    state = await register_actor(db_url, domain, args.handle, Path(args.state))
    logger.info("registered %s as %s", state["bovine_name"], state["actor_uri"])

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{args.fd}"]
    config.accesslog = "-"
    config.errorlog = "-"
    config.graceful_timeout = 1.0

    app = build_app(db_url, state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logger.info("serving %s (pid %d)", domain, os.getpid())
    await serve(app, config, shutdown_trigger=stop.wait)


if __name__ == "__main__":
    asyncio.run(main())
