from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import keys
from tests.federation.db_fixtures import Workers
from tests.federation.httpserver import LocalServer


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return keys.generate_rsa_key()


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return keys.generate_rsa_key()


@pytest.fixture(scope="session")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return keys.generate_ed25519_key()


@pytest.fixture(scope="session")
def other_ed_key() -> ed25519.Ed25519PrivateKey:
    return keys.generate_ed25519_key()


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    local = LocalServer()
    await local.start()
    yield local
    await local.stop()


@pytest.fixture
async def second_server() -> AsyncIterator[LocalServer]:
    local = LocalServer()
    await local.start()
    yield local
    await local.stop()


@pytest.fixture
async def workers(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[Workers]:
    """Delivery workers over the test's databases, closed at the end of the test."""
    made = Workers(rsa_key)
    yield made
    await made.close()
