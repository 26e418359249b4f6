"""supplychain/strict_json.py: a document cosign (Go) and pyko could read two ways is refused."""
import pytest

from pyko.errors import MalformedInput
from pyko.supplychain.strict_json import loads


def test_ordinary_documents_read_as_json_does():
    assert loads(b'{"a": {"b": [1, {"c": null}]}, "A1": 2}', "x") == {"a": {"b": [1, {"c": None}]}, "A1": 2}


@pytest.mark.parametrize("doc", [b'{"critical": 1, "CRITICAL": 2}', b'{"a": {"Image": 1, "image": 2}}',
                                 b'[{"k": 1, "K": 2}]', b'{"x": 1, "x": 2}', b'{"\\u212a": 1, "k": 2}'])
def test_keys_equal_when_case_folded_are_refused_at_any_depth(doc):
    with pytest.raises(MalformedInput, match="the payload: the JSON has keys that differ only in case"):
        loads(doc, "the payload")


def test_not_json():
    with pytest.raises(MalformedInput, match="the payload is not JSON"):
        loads(b"{", "the payload")
