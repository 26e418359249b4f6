"""gotemplate/funcs.py: the built-ins' rules (Go's answers, as golden.json also records)."""
import pytest

from pyko.util.gotemplate.funcs import BUILTINS, FuncError
from pyko.util.gotemplate.values import GoMap, Int64, Uint8


def call(name, *args):
    return BUILTINS[name][1](list(args))


def test_eq_compares_basic_kinds_and_any_integer_types():
    assert call("eq", Int64(5), 5) and call("eq", Uint8(97), 97) and call("eq", 1, 2, 1)
    assert not call("eq", "a", "b", "c") and not call("eq", None, "x") and call("eq", None, None)
    for args in ((1, 1.0), (1, "1")):
        with pytest.raises(FuncError, match="incompatible types"):
            call("eq", *args)
    with pytest.raises(FuncError, match="non-comparable"):
        call("eq", GoMap({}), GoMap({}))
    with pytest.raises(FuncError, match="missing argument"):
        call("eq", 1)


def test_ordering():
    assert call("lt", "a", "b") and call("le", 2, 2) and call("gt", 3, 2) and not call("ge", 1, 2)
    with pytest.raises(FuncError, match="invalid type for comparison"):
        call("lt", True, False)


def test_index_and_slice_work_on_bytes():
    assert call("index", "é", 0) == 0xC3 and isinstance(call("index", "abc", 1), Uint8)
    assert call("index", GoMap({"a": "x"}, "string"), "b") == "" and call("index", GoMap({}), "b") is None
    assert call("slice", "abcdef", 1, 3) == "bc" and call("len", "é") == 2
    with pytest.raises(FuncError, match="index out of range: 4"):
        call("index", "abc", 4)
    with pytest.raises(FuncError, match="cannot 3-index slice a string"):
        call("slice", "abc", 0, 1, 2)


def test_escapers():
    assert call("html", "<a href='x'>&") == "&lt;a href=&#39;x&#39;&gt;&amp;"
    assert call("js", "a'b\"<=\x01") == "a\\'b\\\"\\u003C\\u003D\\u0001"
    assert call("urlquery", "a b+c/d?e") == "a+b%2Bc%2Fd%3Fe"
    assert call("html", None) == "&lt;no value&gt;"
