"""Fixtures for interop tests: peers from independent implementations on 127.0.0.1 (the
Fedify peer's fixture, `fedify`, is in tests/conftest.py: the group-move tests use it too).

`pasture` and `herd_factory` are session-scoped: the venvs are built (or reused) once and
each peer process is started once and stopped at the end of the session. Without a venv
(e.g. PyPI unreachable) the tests that use them are skipped, with the pip log tail as
reason; set COMMONS_INTEROP_REQUIRED=1 to make that a failure instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import venv_or_skip
from tests.interop.peers import (
    BovineHerd,
    PastureVerifier,
    ensure_herd_venv,
    ensure_pasture_venv,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "interop: runs independent ActivityPub implementations (fediverse-pasture, "
        "bovine-herd, Fedify) as peers on 127.0.0.1; builds their venvs on first use",
    )


@pytest.fixture(scope="session")
def pasture_venv() -> None:
    venv_or_skip(ensure_pasture_venv)


@pytest.fixture(scope="session")
def herd_venv() -> None:
    venv_or_skip(ensure_herd_venv)


@pytest.fixture(scope="session")
def pasture(
    pasture_venv: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PastureVerifier]:
    """fediverse-pasture verify_actor on 127.0.0.1 (one per session)."""
    verifier = PastureVerifier(workdir=tmp_path_factory.mktemp("pasture"))
    verifier.start()
    try:
        yield verifier
    finally:
        verifier.stop()


@pytest.fixture(scope="session")
def herd_factory(
    herd_venv: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., BovineHerd]]:
    """`herd_factory(handle="milkdrinker")` starts a new bovine-herd server; all are
    stopped at the end of the session."""
    started: list[BovineHerd] = []

    def make(handle: str = "milkdrinker", **kwargs) -> BovineHerd:
        herd = BovineHerd(handle, workdir=tmp_path_factory.mktemp(f"herd-{handle}"), **kwargs)
        started.append(herd)
        return herd.start()

    try:
        yield make
    finally:
        for herd in started:
            herd.stop()


@pytest.fixture(scope="session")
def herd(herd_factory: Callable[..., BovineHerd]) -> BovineHerd:
    """One bovine-herd server with the actor `milkdrinker`, shared by the session."""
    return herd_factory("milkdrinker")
