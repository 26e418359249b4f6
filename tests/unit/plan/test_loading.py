"""The one Config: .pyko.toml over .ko.yaml, the environment (PYKO_ then KO_) over both."""
from pyko.plan.loading import load_config


def test_environment_overrides_both_files_pyko_variables_first(tmp_path):
    (tmp_path / ".ko.yaml").write_text("defaultBaseImage: ko/base\ndefaultPlatforms: [linux/arm64]\n")
    assert load_config(str(tmp_path), {}).default_base_image == "ko/base"
    env = {"KO_DEFAULTBASEIMAGE": "env/ko", "KO_DEFAULTPLATFORMS": "linux/amd64,linux/386",
           "KO_DEFAULTLDFLAGS": "-s -w", "KO_DEFAULTFLAGS": "-tags x", "KO_DEFAULTENV": "A=1 B=2"}
    config = load_config(str(tmp_path), env)
    assert config.default_base_image == "env/ko"
    assert config.default_platforms == ("linux/amd64", "linux/386")
    assert (config.default_ldflags, config.default_flags, config.default_env) == (
        ("-s", "-w"), ("-tags", "x"), ("A=1", "B=2"))
    both = load_config(str(tmp_path), {**env, "PYKO_DEFAULTBASEIMAGE": "env/pyko"})
    assert both.default_base_image == "env/pyko"


def test_pyko_toml_and_ko_yaml_combine(tmp_path):
    (tmp_path / ".ko.yaml").write_text("defaultBaseImage: ko/base\ndefaultLdflags: [-s]\n")
    (tmp_path / ".pyko.toml").write_text('defaultBaseImage = "pyko/base"\n')
    config = load_config(str(tmp_path), {})
    assert (config.default_base_image, config.default_ldflags) == ("pyko/base", ("-s",))
    assert len(config.warnings) == 1 and "defaultBaseImage is set in both" in config.warnings[0]
    assert config.image.entrypoint is True


def test_no_ko_yaml_leaves_the_entrypoint_to_the_command(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config.image.entrypoint is None and config.ko_source == "" and config.warnings == ()
