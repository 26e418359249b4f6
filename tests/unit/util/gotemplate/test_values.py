"""gotemplate/values.py: Go's types and truth."""
from pyko.util.gotemplate.values import GoMap, Int64, Lazy, Uint8, truth, type_name, utf8


def test_type_names_and_zero_values():
    assert [type_name(v) for v in ("", True, 1, Int64(1), Uint8(1), 1.0, None, GoMap({}, "string"))] == [
        "string", "bool", "int", "int64", "uint8", "float64", "<nil>", "map[string]string"]
    assert GoMap({}, "string").value("x") == (False, "") and GoMap({}).value("x") == (False, None)


def test_truth_is_gos():
    assert [truth(v) for v in ("", "a", 0, 2, 0.0, False, True, None, GoMap({}), GoMap({"a": 1}))] == [
        False, True, False, True, False, False, True, False, False, True]


def test_a_map_sorts_by_bytes_and_resolves_lazy_values():
    m = GoMap({"b": Lazy(lambda: "B"), "a": "A", "Z": "z"})
    assert list(m.sorted_items()) == [("Z", "z"), ("a", "A"), ("b", "B")]
    assert utf8("\udce9") == b"\xe9"
