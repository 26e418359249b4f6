"""ko's .ko.yaml read as ko v0.19 reads it: every documented key, viper's case rules, warnings by name."""
import pytest

from pyko.errors import ConfigError
from pyko.plan.config import Config, ImageMetadata
from pyko.plan.ko_config import find_ko_config, merge_ko, read_ko_config

EVERY_KEY = """\
defaultBaseImage: registry.example/base:1
baseImageOverrides:
  example.com/app/cmd/Tool: registry.example/tool-base:2
defaultPlatforms:
- linux/amd64
- linux/arm64
defaultEnv: [GOAMD64=v2]
defaultFlags: -tags netgo
defaultLdflags: [-s, -w]
builds:
- id: server
  dir: .
  main: ./cmd/server
  env: [GOARM=7]
  flags: -tags=prod -v
  ldflags: -X main.version={{.Env.VERSION}}
- id: single-file
  main: ./cmd/tool/main.go
  flags: [-tags, extra]
  ldflags: [-s, -w]
"""


@pytest.fixture
def project(tmp_path):
    for sub in ("cmd/server", "cmd/tool"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "main.go").write_text("package main\nfunc main() {}\n")
    return tmp_path


def test_every_documented_key_is_read_with_no_warning(project):
    (project / ".ko.yaml").write_text(EVERY_KEY)
    ko = read_ko_config(str(project / ".ko.yaml"), str(project))
    assert ko.warnings == ()
    values = ko.values
    assert values["default_base_image"] == "registry.example/base:1"
    assert values["base_image_overrides"] == {"example.com/app/cmd/Tool": "registry.example/tool-base:2"}
    assert values["default_platforms"] == ("linux/amd64", "linux/arm64")
    assert values["default_env"] == ("GOAMD64=v2",)
    assert values["default_flags"] == ("-tags", "netgo")          # viper splits a string on white space
    assert values["default_ldflags"] == ("-s", "-w")
    server, tool = values["builds"]
    assert (server.id, server.main, server.env) == ("server", "./cmd/server", ("GOARM=7",))
    assert server.flags == ("-tags=prod", "-v")                     # FlagArray: a string is split
    assert server.ldflags == ("-X main.version={{.Env.VERSION}}",)  # StringArray: a string is one item
    assert server.path(str(project)) == str(project / "cmd/server")
    assert tool.main == "./cmd/tool"                                # a main.go names its package
    assert tool.flags == ("-tags", "extra")


def test_keys_match_without_regard_to_case_and_misspellings_are_named(project):
    (project / ".ko.yaml").write_text("DefaultBaseImage: a/b\ndefaultPlatform: linux/arm64\n"
                                      "builds:\n- ID: x\n  mian: ./cmd/server\n")
    ko = read_ko_config(str(project / ".ko.yaml"), str(project))
    assert ko.values["default_base_image"] == "a/b"
    assert ko.values["builds"][0].id == "x"
    assert len(ko.warnings) == 2
    assert "'defaultPlatform'" in ko.warnings[0] and "did you mean defaultPlatforms?" in ko.warnings[0]
    assert "'mian'" in ko.warnings[1] and "builds entry 1" in ko.warnings[1] and "did you mean main?" in ko.warnings[1]


@pytest.mark.parametrize("text, message", [
    ("builds: {id: x}", "builds: must be a list"),
    ("defaultBaseImage: [a]", "defaultBaseImage: must be a string"),
    ("baseImageOverrides: [a]", "must map import paths"),
    ("builds:\n- id: a\n- id: a\n", "two entries have id 'a'"),
    ("builds:\n- linux_capabilities: [net_bind_service]\n", "cannot give a binary file capabilities"),
    ("defaultBaseImage: a\ndefaultbaseimage: b\n", "set twice"),
    ("- just a list\n", "must be a mapping"),
    ("key: [unclosed\n", "invalid YAML"),
    ("defaultBaseImage: \"a\\0b\"\n", "NUL"),
])
def test_bad_values_are_one_config_error_naming_the_file(project, text, message):
    (project / ".ko.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        read_ko_config(str(project / ".ko.yaml"), str(project))
    assert ".ko.yaml" in str(err.value)


def test_ko_config_path_is_a_file_or_a_directory_as_in_ko(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / ".ko.yaml").write_text("{}")
    (tmp_path / "other.yaml").write_text("{}")
    assert find_ko_config("/", {"KO_CONFIG_PATH": str(tmp_path / "conf")}) == str(tmp_path / "conf" / ".ko.yaml")
    assert find_ko_config("/", {"KO_CONFIG_PATH": str(tmp_path / "other.yaml")}) == str(tmp_path / "other.yaml")
    with pytest.raises(ConfigError, match="KO_CONFIG_PATH names"):
        find_ko_config("/", {"KO_CONFIG_PATH": str(tmp_path / "missing")})
    assert find_ko_config(str(tmp_path), {}) == ""
    (tmp_path / ".ko.yaml").write_text("{}")
    assert find_ko_config(str(tmp_path), {}) == str(tmp_path / ".ko.yaml")


def test_pyko_file_wins_a_key_both_set_with_a_warning_and_ko_projects_get_an_entrypoint(project):
    (project / ".ko.yaml").write_text(EVERY_KEY)
    ko = read_ko_config(str(project / ".ko.yaml"), str(project))
    pyko = Config(source="/p/.pyko.toml", default_base_image="mine/base")
    merged = merge_ko(pyko, frozenset({"defaultBaseImage"}), ko)
    assert merged.default_base_image == "mine/base"
    assert merged.default_platforms == ("linux/amd64", "linux/arm64")
    assert merged.image.entrypoint is True and merged.ko_source.endswith(".ko.yaml")
    assert merged.warnings == ((f"defaultBaseImage is set in both /p/.pyko.toml and {ko.path}: "
                               "using /p/.pyko.toml's"),)
    said = merge_ko(Config(image=ImageMetadata(entrypoint=False)), frozenset({"entrypoint"}), ko)
    assert said.image.entrypoint is False
