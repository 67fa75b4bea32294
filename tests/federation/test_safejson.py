import pytest

from federation.safejson import JsonError, loads, too_deep


def test_parses_normal_documents() -> None:
    assert loads(b'{"a": [1, {"b": "x"}]}') == {"a": [1, {"b": "x"}]}
    assert loads('{"é": "ü"}') == {"é": "ü"}


def test_depth_limit_counts_arrays_and_objects() -> None:
    assert loads(b"[" * 64 + b"]" * 64) is not None
    with pytest.raises(JsonError, match="deeper than 64"):
        loads(b"[" * 65 + b"]" * 65)
    with pytest.raises(JsonError, match="deeper than 3"):
        loads(b'{"a": {"b": {"c": {}}}}', max_depth=3)


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'{"a": "[[[[[[[[[[[[ \\" {{{{{{{{"}'
    assert not too_deep(text, 1)
    assert loads(text, max_depth=1) == {"a": '[[[[[[[[[[[[ " {{{{{{{{'}


def test_a_20000_deep_bomb_is_refused_quickly() -> None:
    with pytest.raises(JsonError):
        loads(b"[" * 20000 + b"]" * 20000)


@pytest.mark.parametrize("bad", [b"", b"{", b"[}", b'{"a":NaN}', b"\xff\xfe", b"[1,]"])
def test_invalid_json(bad: bytes) -> None:
    with pytest.raises(JsonError):
        loads(bad)
