"""Property-based: every document parser either accepts its input or raises
MalformedInput (and the config loader ConfigError), whatever it is given."""
from hypothesis import given, settings

from pyko.errors import MalformedInput, PykoError
from pyko.image.documents import load_json, parse_config, parse_index, parse_manifest

from mutations import VALID_CONFIG, VALID_INDEX, VALID_MANIFEST, mutated


@settings(max_examples=300, deadline=None)
@given(mutated(VALID_INDEX) | mutated(VALID_MANIFEST) | mutated(VALID_CONFIG))
def test_document_parsers_accept_or_refuse_cleanly(data):
    for parse in (load_json, parse_index, parse_manifest, parse_config):
        try:
            parse(data, "fuzzed")
        except MalformedInput:
            pass


def test_what_the_parsers_raise_reaches_the_user_as_one_line_and_its_exit_code(tmp_path):
    """main() turns a PykoError into `pyko: error: …` and its exit code: a malformed document is 1, a
    bad config file (a usage error) 2."""
    import pytest

    from pyko.plan.config import read_pyko_config

    with pytest.raises(PykoError) as malformed:
        parse_manifest(b'{"schemaVersion": 2, "layers": "not a list"}', "manifest from reg.example")
    assert malformed.value.exit_code == 1 and "\n" not in str(malformed.value)
    assert "manifest from reg.example" in str(malformed.value)
    (tmp_path / ".pyko.toml").write_text("defaultBaseImage = [")
    with pytest.raises(PykoError) as bad_config:
        read_pyko_config(str(tmp_path), {})
    assert bad_config.value.exit_code == 2 and ".pyko.toml" in str(bad_config.value)
