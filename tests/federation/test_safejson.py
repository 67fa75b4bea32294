import orjson
import pytest

from federation.safejson import JsonError, TooDeep, loads, nesting_exceeds


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
    assert loads(text, max_depth=1) == {"a": '[[[[[[[[[[[[ " {{{{{{{{'}


def test_a_20000_deep_bomb_is_refused_quickly() -> None:
    with pytest.raises(TooDeep, match="deeper than 64"):
        loads(b"[" * 20000 + b"]" * 20000)


def test_depth_is_that_of_the_deepest_branch() -> None:
    wide = {"a": [1, 2, {"b": []}], "c": {"d": {"e": [[]]}}, "f": "x"}  # {c{d{e[[ : 5 levels
    assert not nesting_exceeds(wide, 5) and nesting_exceeds(wide, 4)
    assert not nesting_exceeds("text", 0) and nesting_exceeds([], 0)
    with pytest.raises(TooDeep):
        loads(orjson.dumps(wide), max_depth=4)


@pytest.mark.parametrize("bad", [b"", b"{", b"[}", b'{"a":NaN}', b"\xff\xfe", b"[1,]"])
def test_invalid_json(bad: bytes) -> None:
    with pytest.raises(JsonError):
        loads(bad)
