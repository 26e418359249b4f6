"""Property-based: every document parser either accepts its input or raises
MalformedInput (and the config loader ConfigError), whatever it is given."""
from hypothesis import given, settings

from pyko.errors import ConfigError, MalformedInput, PykoError
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


def test_pyko_errors_are_what_the_parsers_raise():
    assert issubclass(MalformedInput, PykoError) and issubclass(ConfigError, PykoError)
