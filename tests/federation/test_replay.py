from federation.replay import ReplayGuard


def test_a_signature_is_good_once_while_it_could_verify() -> None:
    guard = ReplayGuard(lifetime_seconds=60)
    assert guard.first_use("sig-a", now=0)
    assert not guard.first_use("sig-a", now=59)
    assert guard.first_use("sig-b", now=59)
    assert guard.first_use("sig-a", now=61)  # stale by now: the Date check refuses it anyway


def test_memory_is_bounded() -> None:
    guard = ReplayGuard(lifetime_seconds=60, max_entries=2)
    for name in ("a", "b", "c"):
        assert guard.first_use(name, now=0)
    assert len(guard._seen) == 2


def test_only_a_taken_request_counts() -> None:
    # A request we failed to store (a 5xx) may come again at once with the same signature.
    guard = ReplayGuard(lifetime_seconds=60)
    assert not guard.seen("sig", now=0)
    assert not guard.seen("sig", now=1)
    guard.remember("sig", now=1)
    assert guard.seen("sig", now=2)
