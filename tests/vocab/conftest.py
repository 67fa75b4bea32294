"""Shared helpers for the vocab tests: fixture documents and a network that refuses to work."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import vocab

FIXTURES = Path(__file__).parent / "fixtures"
VALID_FIXTURES = ["own", "context-url", "arrays", "expanded", "prefixed"]
INVALID_FIXTURES = {
    "invalid-page-only": {"type"},
    "invalid-missing": {"id", "name", "kind"},
    "invalid-unknown-context": {"@context"},
    "invalid-expanded-literal-kind": {"kind", "published"},
    "invalid-wrong-types": {
        "location.latitude",
        "public_access",
        "license",
        "steward.name",
        "status",
        "capacity",
        "tags[1]",
        "geometry.coordinates[0]",
        "website",
    },
}


def load(name: str) -> Any:
    path = FIXTURES / (name if "." in name else f"{name}.jsonld")
    return json.loads(path.read_text(encoding="utf-8"))


def expected_record() -> vocab.AssetRecord:
    return vocab.validate_asset_input(load("expected-record.json"))


def expected_meta() -> vocab.AssetMeta:
    raw = load("expected-meta.json")
    for key in ("published", "updated"):
        raw[key] = datetime.fromisoformat(raw[key])
    return vocab.AssetMeta(**raw)


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way to open a connection raises; the list records each attempt."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            attempts.append(name)
            raise NetworkUsed(f"network used: {name}{args[1:2]}")

        return call

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts
