import pytest

from federation.acct import Acct, InvalidHandle, parse_acct, parse_reference, webfinger_url


@pytest.mark.parametrize(
    "text",
    [
        "@registry@Example.ORG",
        "registry@example.org",
        "acct:registry@example.org.",
        " ACCT:registry@example.org ",
    ],
)
def test_handle_forms(text: str) -> None:
    acct = parse_acct(text)
    assert acct == Acct("registry", "example.org")
    assert acct.uri == "acct:registry@example.org"
    assert str(acct) == "registry@example.org"


def test_idn_and_port_hosts_are_normalised() -> None:
    assert parse_acct("a@Bücher.example").host == "xn--bcher-kva.example"
    assert parse_acct("a@127.0.0.1:8000").host == "127.0.0.1:8000"
    assert parse_acct("a@example.org:443").host == "example.org:443"  # no scheme: port kept


@pytest.mark.parametrize(
    "bad", ["registry", "@registry", "a@", "a b@example.org", "a@b@c", "a@exa mple.org", ""]
)
def test_bad_handles(bad: str) -> None:
    with pytest.raises(InvalidHandle):
        parse_acct(bad)


def test_urls_pass_through() -> None:
    assert parse_reference(" https://example.org/actor ") == "https://example.org/actor"
    assert parse_reference("@a@example.org") == Acct("a", "example.org")
    with pytest.raises(InvalidHandle):
        parse_reference("https://exa mple.org/")


def test_webfinger_urls() -> None:
    assert (
        parse_acct("@registry@example.org").webfinger_url()
        == "https://example.org/.well-known/webfinger?resource=acct:registry@example.org"
    )
    assert (
        webfinger_url(Acct("a", "127.0.0.1:8000"), scheme="http")
        == "http://127.0.0.1:8000/.well-known/webfinger?resource=acct:a@127.0.0.1:8000"
    )
    # FEP-d556: the server's own URL as the resource; a query in it gets escaped.
    assert (
        webfinger_url("https://Example.org/?x=1&y=2")
        == "https://example.org/.well-known/webfinger?resource=https://Example.org/%3Fx%3D1%26y%3D2"
    )
