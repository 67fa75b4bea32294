"""Run fediverse-pasture's verify_actor app on 127.0.0.1 (test peer).

Runs inside the pasture virtualenv (fediverse-pasture 0.2.25), started by
`tests.interop.peers.PastureVerifier`. Usage:

    <pasture-venv>/bin/python pasture_launcher.py --fd N --port P [--timeout 10]

Why not pasture's own entry points: its CLI (`python -m fediverse_pasture verify_actor`)
calls `app.run(host="0.0.0.0")`, and `verify_actor.get_app()` is broken in 0.2.25 (it calls
`build_app` with 3 of its 4 arguments). So this calls `build_app(False, "127.0.0.1:P",
False, timeout)` itself and serves the app with hypercorn on a socket the harness already
bound to 127.0.0.1:P (`--fd`).

`https=False` makes the six test actors `http://127.0.0.1:P/alice` ... `/frank`, so a plain
http server on 127.0.0.1 can fetch their keys; pasture then also looks up WebFinger over
`http://`. The current directory should be a scratch directory: build_app reads or writes
the actors' keys in `./data.toml`, and bovine keeps its JSON-LD cache in
`./bovine_jsonld_cache.sqlite`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

import loopback_guard  # noqa: F401  (first: confine this process to 127.0.0.1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fd", type=int, required=True, help="listening socket bound by the harness"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout (s)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args()


async def main() -> None:
    args = parse_args()
    # fediverse_pasture.verify_actor calls logging.basicConfig(level=DEBUG) on import;
    # configure first so our level wins.
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("tortoise", "aiosqlite", "hpack", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from fediverse_pasture.verify_actor import build_app
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    domain = f"127.0.0.1:{args.port}"
    app = build_app(False, domain, False, args.timeout)

    config = Config()
    config.bind = [f"fd://{args.fd}"]
    config.accesslog = "-"
    config.errorlog = "-"
    config.graceful_timeout = 1.0

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("pasture_launcher").info("serving http://%s (pid %d)", domain, os.getpid())
    await serve(app, config, shutdown_trigger=stop.wait)


if __name__ == "__main__":
    asyncio.run(main())
