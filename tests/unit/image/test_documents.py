"""Property-based: every document parser either accepts its input or raises
MalformedInput (and the config loader ConfigError), whatever it is given."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


TOML_LINES = ['defaultBaseImage = "pyko://static"', 'defaultPlatforms = ["linux/amd64"]', "[[builds]]",
              'id = "app"', 'dir = "."', 'main = "."', 'name = "app"', 'ldflags = ["-s"]', 'env = ["A=b"]',
              'flags = ["-tags=x"]', '[baseImageOverrides]', '"./x" = "reg.io/b"', 'binaries = {}', 'x = 1',
              'rustLibc = "musl"', 'bin = "a"', "[[builds]]", "[tool.pyko]", "= = =", 'name = 7', 'env = "A=b"']


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOML_LINES) | st.text(max_size=30), max_size=10))
def test_config_files_accept_or_refuse_cleanly(tmp_path, lines):
    from pyko.plan.config import load_config

    path = tmp_path / ".pyko.toml"
    path.write_text("\n".join(lines) + "\n", errors="surrogatepass")
    try:
        load_config(str(tmp_path), environ={})
    except ConfigError:
        pass
    except UnicodeEncodeError:
        pass  # a lone surrogate cannot even be written; nothing for pyko to read


def test_pyko_errors_are_what_the_parsers_raise():
    assert issubclass(MalformedInput, PykoError) and issubclass(ConfigError, PykoError)
