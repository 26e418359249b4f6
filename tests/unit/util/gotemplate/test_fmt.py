"""gotemplate/fmt.py: Go's print verbs; each expectation is what Go prints (see golden.json)."""
import pytest

from pyko.util.gotemplate.fmt import quote, sprint, sprintf, sprintln
from pyko.util.gotemplate.values import GoMap, Int64


@pytest.mark.parametrize("fmt, args, printed", [
    ("%s-%d", ["v", Int64(7)], "v-7"),
    ("%5s|%-5s|%.2s|%05s", ["ab", "ab", "abcdef", "ab"], "   ab|ab   |ab|000ab"),
    ("%08.3f|%+.1f|% d", [3.14159, 2.0, 5], "0003.142|+2.0| 5"),
    ("%x %X %#x %#o", [-255, 255, 255, 8], "-ff FF 0xff 010"),
    ("%v %v %v %v", [0.1, 1e21, 1e20, 123456789.0], "0.1 1e+21 1e+20 1.23456789e+08"),
    ("%v %v", [1e6, 100000.0], "1e+06 100000"),
    ("%d", ["x"], "%!d(string=x)"),
    ("%s %s", ["one"], "one %!s(MISSING)"),
    ("%s", ["one", 2], "one%!(EXTRA int=2)"),
    ("%*d|%-*d|", [5, 42, 5, 42], "   42|42   |"),
    ("%q %q", ["a\"b\n", 65], "\"a\\\"b\\n\" 'A'"),
    ("%v", [GoMap({"b": "2", "a": "1"}, "string")], "map[a:1 b:2]"),
    ("100%%", [], "100%"),
    ("%", [], "%!(NOVERB)"),
])
def test_printf_as_go_prints(fmt, args, printed):
    assert sprintf(fmt, args) == printed


def test_print_spaces_only_between_two_non_strings():
    assert sprint(["a", "b", 1, 2, "c", True, False]) == "ab1 2ctrue false"
    assert sprint([None]) == "<nil>"
    assert sprintln(["a", 1]) == "a 1\n"


def test_quote_escapes_as_strconv():
    assert quote("héllo\x01") == '"héllo\\x01"' and quote("héllo", ascii_only=True) == '"h\\u00e9llo"'
