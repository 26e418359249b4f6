import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyko.errors import ConfigError, UsageError
from pyko.image.static_base import REFERENCE
from pyko.plan.loading import load_config
from pyko.util.templates import expand


def write(tmp_path, name, text):
    (tmp_path / name).write_text(text)


def test_defaults_without_a_file(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config.default_base_image == REFERENCE and config.builds == () and config.source == ""


def test_ko_keys(tmp_path):
    write(tmp_path, ".pyko.toml", """
defaultBaseImage = "pyko://static"
defaultPlatforms = ["linux/arm64", "linux/amd64"]
defaultEnv = ["A=1"]
defaultFlags = "-tags netgo -v"
defaultLdflags = ["-s", "-w"]

[baseImageOverrides]
"cmd/other" = "pyko://static"

[[builds]]
id = "app"
dir = "cmd"
main = "app"
env = { GOFLAGS = "-mod=mod" }
ldflags = "-X main.version={{.Env.VERSION}}"
""")
    config = load_config(str(tmp_path), {})
    assert config.default_platforms == ("linux/arm64", "linux/amd64")
    assert config.default_flags == ("-tags", "netgo", "-v")
    build = config.build_for(str(tmp_path / "cmd" / "app"))
    assert build.id == "app" and build.env == ("GOFLAGS=-mod=mod",)
    effective = config.effective(build)
    assert effective.flags == ("-tags", "netgo", "-v")       # from the defaults
    assert effective.ldflags == ("-X main.version={{.Env.VERSION}}",)  # its own replaces defaults
    other = config.build_for(str(tmp_path / "cmd" / "other"))
    assert config.base_for(str(tmp_path / "cmd" / "other"), other) == "pyko://static"


def test_pyproject_table_and_env_override(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname="x"\n\n[tool.pyko]\ndefaultPlatforms=["linux/s390x"]\n')
    config = load_config(str(tmp_path), {"PYKO_DEFAULTPLATFORMS": "linux/amd64, linux/386",
                                         "PYKO_DEFAULTBASEIMAGE": "pyko://static"})
    assert config.default_platforms == ("linux/amd64", "linux/386")
    assert load_config(str(tmp_path), {}).default_platforms == ("linux/s390x",)


def test_pyko_config_names_a_file(tmp_path):
    write(tmp_path, "elsewhere.toml", 'defaultPlatforms = ["linux/riscv64"]\n')
    config = load_config("/", {"PYKO_CONFIG": str(tmp_path / "elsewhere.toml")})
    assert config.default_platforms == ("linux/riscv64",)
    with pytest.raises(ConfigError, match="no config file there"):
        load_config("/", {"PYKO_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize("text, message", [
    ('defaultPlatforms = "x"\nbogus = 1\n', r"\.pyko\.toml:2: unknown key 'bogus'"),
    ('\n\ndefaultPlatforms = [1]\n', r"\.pyko\.toml:3: defaultPlatforms must be a list of strings"),
    ('[[builds]]\nid = "a"\n[[builds]]\nid = "a"\n', r"\.pyko\.toml:4: two \[\[builds\]\] entries have id 'a'"),
    ('[[builds]]\nid = "a"\n[[builds]]\nmian = "x"\n', r"\.pyko\.toml:4: unknown key 'mian' in \[\[builds\]\] entry 2"),
    ('x = [\n', r"\.pyko\.toml:\d+: invalid TOML"),
])
def test_errors_name_file_and_line(tmp_path, text, message):
    write(tmp_path, ".pyko.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path), {})


def test_templates(tmp_path):
    assert expand(["-X main.v={{.Env.V}}", "{{ .Env.LDFLAGS }}x"], {"V": "1.2"}, str(tmp_path), 0) == \
        ("-X main.v=1.2", "x")
    assert expand(["{{.Date}} {{.Timestamp}}"], {}, str(tmp_path), 86400) == ("1970-01-02T00:00:00Z 86400",)
    with pytest.raises(UsageError, match='map has no entry for key "NOPE"'):
        expand(["{{.Env.NOPE}}"], {}, str(tmp_path), 0)
    assert expand(["{{ if .Env.X }}y{{ end }}"], {"X": "1"}, str(tmp_path), 0) == ("y",)
    assert expand(["[{{.Git.ShortCommit}}]"], {}, str(tmp_path), 0) == ("[]",)   # outside a checkout, as ko


def test_git_templates(tmp_path):
    import subprocess

    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run(git + ["-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run(git + ["-C", str(tmp_path), "commit", "-qm", "c"], check=True)
    full = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    short, whole = expand(["{{.Git.ShortCommit}}", "{{.Git.FullCommit}}"], {}, str(tmp_path), 0)
    assert whole == full and full.startswith(short) and len(short) >= 7


def test_base_policies_by_base_by_build_and_by_default(tmp_path):
    write(tmp_path, ".pyko.toml", """
basePolicy = { preset = "chainguard" }

[basePolicies]
"reg.io/team/base" = { key = "keys/base.pub" }
"cmd/tool" = { certificateIdentity = "https://ci.example/tool", certificateOidcIssuer = "https://issuer.example" }

[[builds]]
id = "svc"
dir = "svc"
""")
    config = load_config(str(tmp_path), {})
    svc = config.build_for(str(tmp_path / "svc"))
    assert config.policy_for(str(tmp_path / "svc"), svc, "reg.io/team/base:1.2").key == str(tmp_path / "keys/base.pub")
    assert config.policy_for(str(tmp_path / "svc"), svc, "cgr.dev/chainguard/static").preset == "chainguard"
    tool = config.policy_for(str(tmp_path / "cmd" / "tool"), config.build_for(str(tmp_path / "cmd" / "tool")),
                             "cgr.dev/chainguard/static")
    assert tool.identity == "https://ci.example/tool"
    write(tmp_path, ".pyko.toml", 'basePolicy = { preset = "chainguard", key = "k.pub" }\n')
    with pytest.raises(ConfigError, match=r"\.pyko\.toml:1: a base policy is a key or a keyless identity"):
        load_config(str(tmp_path), {})


TOML_LINES = ['defaultBaseImage = "pyko://static"', 'defaultPlatforms = ["linux/amd64"]', "[[builds]]",
              'id = "app"', 'dir = "."', 'main = "."', 'name = "app"', 'ldflags = ["-s"]', 'env = ["A=b"]',
              'flags = ["-tags=x"]', '[baseImageOverrides]', '"./x" = "reg.io/b"', 'binaries = {}', 'x = 1',
              'rustLibc = "musl"', 'bin = "a"', "[[builds]]", "[tool.pyko]", "= = =", 'name = 7', 'env = "A=b"']


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOML_LINES) | st.text(max_size=30), max_size=10))
def test_config_files_accept_or_refuse_cleanly(tmp_path, lines):
    """Any bytes, even invalid UTF-8 (a lone surrogate written as it stands), load or give a ConfigError."""
    path = tmp_path / ".pyko.toml"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    try:
        load_config(str(tmp_path), environ={})
    except ConfigError:
        pass


def test_signing_and_cache_trust_keys(tmp_path):
    write(tmp_path, ".pyko.toml", """
sign = "keyless"
trustConfig = "sigstore/trust.json"
[cachePolicy]
certificateIdentity = "https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main"
certificateOidcIssuer = "https://token.actions.githubusercontent.com"
""")
    config = load_config(str(tmp_path), {})
    assert config.sign == "keyless" and config.trust_config == str(tmp_path / "sigstore" / "trust.json")
    assert config.cache_policy.identity.endswith("@refs/heads/main") and config.cache_trust == ""
    write(tmp_path, ".pyko.toml", 'cacheTrust = "none"\nsign = "sometimes"\n')
    with pytest.raises(ConfigError, match="sign must be one of keyless, none"):
        load_config(str(tmp_path), {})


def test_the_config_signs_keylessly_and_flags_still_choose(tmp_path):
    from pyko.plan.resolve import Flags, resolve

    (tmp_path / "go.mod").write_text("module example.com/m\n")
    (tmp_path / "main.go").write_text("package main\nfunc main() {}\n")
    write(tmp_path, ".pyko.toml", 'sign = "keyless"\n')
    config = load_config(str(tmp_path), {})
    plan = resolve(Flags(paths=(str(tmp_path),), oci_layout=str(tmp_path / "out")), config, {})
    assert plan.signing.signer.keyless and plan.signing.attest
    keyed = resolve(Flags(paths=(str(tmp_path),), oci_layout=str(tmp_path / "out"), sign_key="ci.key"), config, {})
    assert keyed.signing.signer.key == "ci.key" and not keyed.signing.signer.keyless   # the flag wins
    with pytest.raises(UsageError, match="--sign-key and --sign-keyless both given"):
        resolve(Flags(paths=(str(tmp_path),), oci_layout="o", sign_key="k", sign_keyless=True), config, {})


def test_a_pyproject_without_a_pyko_table_is_no_pyko_config(tmp_path):
    from pyko.plan.config import read_pyko_config
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config, keys = read_pyko_config(str(tmp_path), {})
    assert config.source == "" and not keys      # so KO_DOCKER_REPO still makes the run a ko user's
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.pyko]\ndefaultPlatforms = ['linux/arm64']\n")
    config, keys = read_pyko_config(str(tmp_path), {})
    assert config.source.endswith("pyproject.toml") and config.default_platforms == ("linux/arm64",)
