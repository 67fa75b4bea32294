"""Schemathesis against /api/openapi.json on a real server: every operation, with valid and
invalid inputs (schemathesis' positive and negative modes), as an admin, as a group and
anonymously. No request may get a 500, every error must be a problem document, and the
server may log no error and no traceback.

CI runs a few hundred requests; `FUZZ_EXAMPLES=2000 pytest tests/fuzz/test_openapi_fuzz.py`
runs longer.
"""

from __future__ import annotations

from collections import Counter

import httpx
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode

from tests.fuzz.conftest import ThreadedServer, fuzz_settings
from tests.registry.test_assets_api import GARDEN

ROLES = ("admin", "group", "anonymous")
# The node under test runs in a thread of this process and uses `random` (retry jitter) while
# Hypothesis draws examples; Hypothesis notices and warns, though its own draws are unaffected.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

CI_EXAMPLES = 400


def _seed_assets(node: ThreadedServer) -> list[str]:
    """Two real assets, so that operations on {uid} reach more than the 404 path."""
    uids = []
    with httpx.Client(base_url=node.base_url, headers=node.auth("group"), timeout=30) as http:
        for name in ("Fuzzed garden", "Fuzzed workshop"):
            response = http.post("/api/assets", json={**GARDEN, "name": name})
            assert response.status_code == 201, response.text
            uids.append(response.json()["id"])
    return uids


def _cases(node: ThreadedServer, uids: list[str]) -> st.SearchStrategy:
    schema = schemathesis.openapi.from_url(f"{node.base_url}/api/openapi.json")
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(generation_mode=mode))
            if "{uid}" in operation.path:
                strategies += [
                    operation.as_strategy(generation_mode=mode, path_parameters={"uid": uid})
                    for uid in uids
                ]
    return st.one_of(strategies)


def _takes_our_access_away(method: str, path: str, status: int) -> bool:
    """A fuzzed request that revoked one of our tokens or suspended a group."""
    return status < 300 and (
        (method == "DELETE" and path.startswith("/api/tokens/"))
        or (method == "POST" and path.endswith("/suspension"))
    )


def test_openapi_operations_never_fail_on_the_server(fuzz_server: ThreadedServer) -> None:
    node = fuzz_server
    cases = _cases(node, _seed_assets(node))
    session = requests.Session()
    statuses: Counter[int] = Counter()

    @fuzz_settings(CI_EXAMPLES)
    @given(case=cases, role=st.sampled_from(ROLES))
    def call(case: schemathesis.Case, role: str) -> None:
        response = case.call(
            base_url=node.base_url, session=session, headers=node.auth(role), timeout=60
        )
        status = response.status_code
        statuses[status] += 1
        where = f"{case.method} {case.formatted_path} as {role}"
        assert status < 500, f"{where} -> {status}: {response.text[:2000]}"
        if status >= 400:
            media = (response.headers.get("content-type") or [""])[0]
            assert media.startswith("application/problem+json"), f"{where} -> {media}"
            problem = response.json()
            assert problem["status"] == status and problem["detail"], problem
        if _takes_our_access_away(case.method, case.formatted_path, status):
            node.renew_tokens()

    call()
    print(f"openapi fuzz: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert not node.errors.records, node.errors.report()
    assert sum(statuses.values()) >= 100
    assert any(s < 300 for s in statuses), "nothing succeeded: the fuzzer is not authorised"
