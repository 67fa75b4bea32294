"""A small geocoder on 127.0.0.1 speaking Nominatim's (/search) and Photon's (/api) API,
with a few fixed places, for tests of places by name. It records what it was asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PLACES = {
    "nantes": ("Nantes, Loire-Atlantique, France", 47.2184, -1.5536, "fr"),
    "rue de la paix, paris": ("Rue de la Paix, Paris, France", 48.8686, 2.3314, "fr"),
    "zaragoza": ("Zaragoza, Aragón, España", 41.6488, -0.8891, "es"),
}


class _Handler(BaseHTTPRequestHandler):
    asked: list[dict[str, str]]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.asked.append({"path": url.path, **params, "ua": self.headers.get("User-Agent", "")})
        hit = PLACES.get(params.get("q", "").strip().lower())
        if url.path == "/search":  # Nominatim
            body = [] if not hit else [
                {"display_name": hit[0], "lat": str(hit[1]), "lon": str(hit[2]),
                 "address": {"country_code": hit[3]}}
            ]  # fmt: skip
        elif url.path == "/api":  # Photon
            body = {"type": "FeatureCollection", "features": [] if not hit else [
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [hit[2], hit[1]]},
                 "properties": {"name": hit[0].split(",")[0], "country": "France",
                                "countrycode": hit[3].upper()}}
            ]}  # fmt: skip
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def geocoder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(base URL, the list of requests it gets) while the server runs."""
    asked: list[dict[str, str]] = []
    handler = type("Handler", (_Handler,), {"asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()
