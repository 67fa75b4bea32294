"""Fixtures shared by the registry's security and mirroring tests: two independent signers,
each serving its own actor documents on 127.0.0.1, and a node that mirrors one of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from registry.runtime import Runtime
from tests.registry.test_security_helpers import Partner, make_partner, running_node
from tests.remote_actor import serving


@pytest.fixture
async def victim() -> AsyncIterator[Partner]:
    async with serving(Partner(name="victim")) as remote:
        yield remote


@pytest.fixture
async def attacker() -> AsyncIterator[Partner]:
    async with serving(Partner(name="attacker")) as remote:
        yield remote


@pytest.fixture
async def victims_mirror(
    make_app: Callable[..., object], victim: Partner
) -> AsyncIterator[Runtime]:
    """A node in process that follows the victim, which accepted: it takes its copies."""
    async with running_node(make_app) as (_http, runtime):
        await make_partner(runtime, victim)
        yield runtime
