import pytest

from federation.hosts import InvalidHost, host_of, normalize_host, same_origin


@pytest.mark.parametrize(
    ("given", "scheme", "expected"),
    [
        ("EXAMPLE.org.:443", "https", "example.org"),
        ("example.org:80", "http", "example.org"),
        ("example.org:443", "http", "example.org:443"),
        ("example.org:8443", "https", "example.org:8443"),
        ("example.org:443", None, "example.org:443"),
        ("Bücher.Example", None, "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", None, "xn--bcher-kva.example"),
        ("ｅｘａｍｐｌｅ.org", None, "example.org"),  # full-width letters fold like browsers do
        ("[::1]:8080", None, "[::1]:8080"),
        ("[0:0::1]:443", "https", "[::1]"),
        ("::1", None, "[::1]"),
        ("127.0.0.1:8000", "https", "127.0.0.1:8000"),
        ("my_host.example", None, "my_host.example"),
    ],
)
def test_normalize_host(given: str, scheme: str | None, expected: str) -> None:
    assert normalize_host(given, scheme=scheme) == expected


def test_cyrillic_homoglyph_is_not_the_partner() -> None:
    lookalike = "\u0435xample.org"  # Cyrillic е
    assert normalize_host(lookalike) == "xn--xample-2of.org"
    assert normalize_host(lookalike) != normalize_host("example.org")
    assert not same_origin(f"https://{lookalike}/actor", "https://example.org/actor")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        ".",
        "exa mple.org",
        "a..b",
        "a.org:0",
        "a.org:99999",
        "a.org:x",
        "[::1",
        "[::1]x",
        "xn--zz-.example",
        "a" * 64 + ".org",
        "exa\u00a0mple.org",
        "ü\u0000.org",
        "host/path",
    ],
)
def test_invalid_hosts(bad: str) -> None:
    with pytest.raises(InvalidHost):
        normalize_host(bad)


def test_invisible_characters_fold_as_browsers_fold_them() -> None:
    # UTS-46 drops a zero-width space, so this is the very host a browser would reach.
    assert normalize_host("exam\u200bple.org") == "example.org"


def test_same_origin() -> None:
    assert same_origin("https://Example.org:443/a", "https://example.org./b?c")
    # User info makes the host shown differ from the host reached: never the same origin.
    assert not same_origin("https://user@example.org/a", "https://example.org/b")
    assert not same_origin("https://example.org/a", "http://example.org/a")
    assert not same_origin("https://example.org/a", "https://example.org:8443/a")
    assert not same_origin("https://example.org/a", "https://sub.example.org/a")
    assert not same_origin("https://example.org.evil.example/", "https://example.org/")
    assert not same_origin("mailto:a@example.org", "https://example.org/")
    assert not same_origin("not a url", "https://example.org/")


def test_host_of() -> None:
    assert host_of("https://EXAMPLE.org:443/x") == "example.org"
    assert host_of("http://127.0.0.1:8000/x") == "127.0.0.1:8000"


@pytest.mark.parametrize(
    "iri",
    [
        "https://registry.test@evil.example/assets/1",
        "https://registry.test:443@evil.example/x",
        "https://@evil.example/x",
        "https://evil.example\\@registry.test/x",
        "https://evil.example\\.registry.test/x",
    ],
)
def test_an_iri_whose_shown_host_is_not_its_real_host_is_refused(iri: str) -> None:
    with pytest.raises(InvalidHost):
        host_of(iri)
    assert not same_origin(iri, "https://registry.test/x")
    assert not same_origin(iri, "https://evil.example/x")


def test_every_spelling_of_one_host_compares_equal() -> None:
    spellings = [
        "https://registry.test/a",
        "https://REGISTRY.Test/a",
        "https://registry.test./a",
        "https://registry.test:443/a",
        "https://ｒｅｇｉｓｔｒｙ.test/a",  # full-width letters fold as browsers fold them
    ]
    assert {host_of(iri) for iri in spellings} == {"registry.test"}
    assert host_of("https://xn--mnchen-3ya.example/") == host_of("https://münchen.example/")
    assert host_of("https://registry.test:8443/") != host_of("https://registry.test/")


@pytest.mark.parametrize(
    "value", [None, 7, ["https://registry.test/a"], {"id": "x"}, b"https://x/"]
)
def test_anything_but_a_string_is_no_iri_every_time(value: object) -> None:
    for _ in range(2):  # remembered answers are for strings only; a refusal is never kept
        with pytest.raises(InvalidHost):
            host_of(value)  # type: ignore[arg-type]
