"""Fixtures shared by the registry's security tests: two independent signers, each serving
its own actor documents on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.registry.test_security_helpers import Partner
from tests.remote_actor import serving


@pytest.fixture
async def victim() -> AsyncIterator[Partner]:
    async with serving(Partner(name="victim")) as remote:
        yield remote


@pytest.fixture
async def attacker() -> AsyncIterator[Partner]:
    async with serving(Partner(name="attacker")) as remote:
        yield remote
