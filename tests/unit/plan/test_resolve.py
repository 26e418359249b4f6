"""Resolving flags + config + environment into one Plan: precedence and every bad combination."""
import os

import pytest

from pyko.errors import UsageError
from pyko.plan.config import BuildConfig, Config
from pyko.plan.resolve import DEFAULT_TAGS, Flags, resolve, resolve_base_command
from pyko.platforms import Platform


@pytest.fixture
def pkg(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "tool").mkdir()
    return tmp_path


def test_defaults_are_resolved_once(pkg):
    plan = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), {})
    build, = plan.builds
    assert build.tags == DEFAULT_TAGS and build.image.user == "65532" and not plan.outputs.push
    assert plan.jobs == (os.cpu_count() or 1)
    # The name is the toolchain's to choose (the import path's last element, the Rust binary's name).
    assert build.name == "" and build.base == "pyko://static" and build.target_for("app") is None
    assert build.image_name("app") == "app" and build.image_name("My_App") == "my_app"
    assert build.platforms == (str(Platform.host()),)


def test_preserve_import_paths_names_the_image_after_the_whole_path(pkg):
    build, = resolve(Flags(paths=(str(pkg / "app"),), preserve_import_paths=True), Config(root=str(pkg)), {}).builds
    assert build.image_name("app", "example.com/Team/cmd/app") == "example.com/team/cmd/app"
    assert build.image_name("app") == "app"  # no import path (Rust): the plain name


def test_precedence_flag_then_entry_then_defaults(pkg):
    entry = BuildConfig(dir="app", name="from-entry", env=("A=entry",), ldflags=("-s",))
    config = Config(root=str(pkg), builds=(entry,), default_env=("A=default",), default_flags=("-tags=x",),
                    default_platforms=("linux/arm64",), default_base_image="reg.io/base:1",
                    base_image_overrides={"tool": "reg.io/tool-base:2"})
    plan = resolve(Flags(), config, {})
    build, = plan.builds
    assert (build.name, build.base, build.platforms) == ("from-entry", "reg.io/base:1", ("linux/arm64",))
    assert build.image_name("ignored") == "from-entry"
    # ko's rule: an entry's own env/ldflags win; what it does not set comes from the defaults.
    assert build.toolchain.env == ("A=entry",) and build.toolchain.flags == ("-tags=x",)
    plan = resolve(Flags(paths=(str(pkg / "tool"),), platforms=("linux/amd64",), base="reg.io/flag"), config, {})
    assert plan.builds[0].base == "reg.io/flag" and plan.builds[0].platforms == ("linux/amd64",)
    assert resolve(Flags(paths=(str(pkg / "tool"),)), config, {}).builds[0].base == "reg.io/tool-base:2"


def test_repository_from_flag_then_environment(pkg):
    args = Flags(paths=(str(pkg / "app"),))
    config = Config(root=str(pkg))
    assert resolve(args, config, {"KO_DOCKER_REPO": "ko.io/t"}).builds[0].target_for("app").name == "ko.io/t/app"
    both = {"KO_DOCKER_REPO": "ko.io/t", "PYKO_DOCKER_REPO": "pyko.io/t"}
    plan = resolve(args, config, both)
    assert plan.builds[0].target_for("app").name == "pyko.io/t/app" and plan.outputs.registry_hosts == ("pyko.io",)
    flagged = Flags(paths=(str(pkg / "app"),), repo="flag.io/x", bare=True)
    assert resolve(flagged, config, both).builds[0].target_for("app").name == "flag.io/x"
    dry = resolve(Flags(paths=(str(pkg / "app"),), push=False), config, both)
    assert dry.builds[0].target_for("app").name == "pyko.io/t/app" and not dry.outputs.push  # named, not pushed


@pytest.mark.parametrize("flags, env", [(Flags(local=True), {}), (Flags(), {"KO_DOCKER_REPO": "ko.local"}),
                                        (Flags(repo="pyko.local/team"), {})])
def test_local_means_the_engine_not_a_registry(pkg, flags, env):
    import dataclasses

    plan = resolve(dataclasses.replace(flags, paths=(str(pkg / "app"),)), Config(root=str(pkg)), env)
    assert plan.outputs.local_engine == "auto" and not plan.outputs.push
    assert plan.builds[0].target_for("app").registry in ("pyko.local", "ko.local")


def test_tags_are_templated_per_build(pkg):
    build, = resolve(Flags(paths=(str(pkg / "app"),), tags=("v{{.Env.V}}", "latest", "v{{.Env.V}}")),
                     Config(root=str(pkg)), {"V": "1.2"}).builds
    assert build.tags == ("v1.2", "latest")


@pytest.mark.parametrize("flags, message", [
    (Flags(paths=("x",), binaries=(("linux/amd64", "b"),), name="a"), "give no PATH with it"),
    (Flags(binaries=(("linux/amd64", "b"),)), "--binary needs --name"),
    (Flags(binaries=(("linux/amd64", "b"),), name="a", platforms=("linux/arm64",)), "--platform cannot be used"),
    (Flags(paths=("app", "tool"), name="a"), "--name names one image"),
    (Flags(paths=("app", "tool"), tarball="t.tar"), "--tarball holds one image"),
    (Flags(paths=("app",), bare=True), "--bare pushes to the repository itself"),
    (Flags(paths=("app", "tool"), bare=True, repo="r.io/x"), "--bare names one image"),
    (Flags(paths=("app",), sign_key="k"), "--sign-key signs what is pushed"),
    (Flags(paths=("app",), tags=("-bad",)), "invalid tag"),
    (Flags(paths=("app",), name="Bad/Name"), "not a valid image name"),
    (Flags(paths=("app",), tag_only=True), "--tag-only needs exactly one -t TAG"),
    (Flags(paths=("app",), tag_only=True, tags=("latest",)), "--tag-only needs exactly one -t TAG"),
    (Flags(paths=("app",), tag_only=True, tags=("v1",), push_by_digest=True), "choose one"),
    (Flags(paths=("app",), local=True, push_by_digest=True), "--push-by-digest pushes to a registry"),
    (Flags(paths=("app",), local=True, sign_key="k"), "not what --local loads"),
    (Flags(paths=("app",), tags=("{{.Env.NOPE}}",)), 'no entry for key "NOPE"'),
    (Flags(paths=("missing",)), "does not exist"),
])
def test_each_bad_combination_is_one_error(pkg, monkeypatch, flags, message):
    monkeypatch.chdir(pkg)
    with pytest.raises(UsageError, match=message):
        resolve(flags, Config(root=str(pkg)), {})


def test_prebuilt_platforms_come_from_the_files(pkg):
    plan = resolve(Flags(binaries=(("linux/arm64", "a"), ("linux/amd64", "b")), name="c"), Config(), {})
    build, = plan.builds
    assert build.prebuilt and build.platforms == ("linux/arm64", "linux/amd64")
    assert build.binaries == {Platform("linux", "arm64"): "a", Platform("linux", "amd64"): "b"}


def test_the_base_command_needs_a_destination():
    with pytest.raises(UsageError, match="say where the base goes"):
        resolve_base_command(Flags(), {})
    plan = resolve_base_command(Flags(), {"PYKO_DOCKER_REPO": "r.io/static"})
    assert plan.target.name == "r.io/static" and plan.platforms == ("all",) and not plan.outputs.sboms
    assert plan.outputs.registry_hosts == ("r.io",) and plan.outputs.tags == DEFAULT_TAGS


def test_ko_flags_ldflags_replace_the_config_and_disable_optimizations_adds_gcflags(pkg):
    config = Config(root=str(pkg), builds=(BuildConfig(dir="app", ldflags=("-s",), flags=("-v",)),),
                    default_ldflags=("-w",))
    build, = resolve(Flags(paths=(str(pkg / "app"),)), config, {}).builds
    assert (build.toolchain.ldflags, build.toolchain.flags) == (("-s",), ("-v",))
    build, = resolve(Flags(paths=(str(pkg / "app"),), ldflags=("-X", "main.v=1"), disable_optimizations=True),
                     config, {}).builds
    assert build.toolchain.ldflags == ("-X", "main.v=1")
    assert build.toolchain.flags == ("-v", "-gcflags", "all=-N -l")   # after the config's, as ko appends
    with pytest.raises(UsageError, match="--debug .* is not supported"):
        resolve(Flags(paths=(str(pkg / "app"),), debug=True), config, {})


@pytest.mark.parametrize("kubernetes, flag, configured, expected", [
    (False, None, None, False),    # pyko build: Cmd
    (True, None, None, True),      # resolve/apply/create: a pod's args: reach the binary
    (False, None, True, True),     # a ko project (.ko.yaml) or `entrypoint = true`
    (True, None, False, False),    # `entrypoint = false` is kept for YAML too
    (True, False, True, False),    # --cmd wins
    (False, True, None, True),     # --entrypoint wins
])
def test_entrypoint_comes_from_the_flag_then_the_config_then_the_command(pkg, kubernetes, flag, configured,
                                                                         expected):
    from pyko.plan.config import ImageMetadata

    config = Config(root=str(pkg), image=ImageMetadata(entrypoint=configured))
    flags = Flags(paths=(str(pkg / "app"),), kubernetes=kubernetes, image=ImageMetadata(entrypoint=flag))
    build, = resolve(flags, config, {}).builds
    assert build.image.entrypoint is expected


def test_base_image_overrides_match_import_paths_without_regard_to_case(pkg):
    (pkg / "go.mod").write_text("module example.com/Shop\n")
    config = Config(root=str(pkg), base_image_overrides={"example.com/shop/app": "reg.io/app-base:1",
                                                         "example.com/Shop/nothing": "reg.io/x:1"})
    plan = resolve(Flags(paths=(str(pkg / "app"), str(pkg / "tool")), oci_layout=str(pkg / "out")), config, {})
    assert [b.base for b in plan.builds] == ["reg.io/app-base:1", "pyko://static"]
    assert len(plan.warnings) == 1 and "'example.com/Shop/nothing'" in plan.warnings[0]


def test_a_build_that_writes_nowhere_says_so_before_it_starts(pkg):
    (pkg / "go.mod").write_text("module example.com/shop\n")
    nowhere = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), {})
    assert [w for w in nowhere.warnings if w.startswith("no destination: the images are built but written nowhere")]
    assert "--push=false: " in resolve(Flags(paths=(str(pkg / "app"),), push=False), Config(root=str(pkg)),
                                       {}).warnings[-1]
    somewhere = resolve(Flags(paths=(str(pkg / "app"),), oci_layout=str(pkg / "out")), Config(root=str(pkg)), {})
    assert not [w for w in somewhere.warnings if "written nowhere" in w]


def test_yaml_commands_refuse_json_and_a_missing_repository_before_reading_yaml():
    from pyko.plan.resolve import check_yaml_flags

    with pytest.raises(UsageError, match="--json is for `pyko build`"):
        check_yaml_flags(True, "reg.example/team", False, {})
    with pytest.raises(UsageError, match="set --repo or PYKO_DOCKER_REPO"):
        check_yaml_flags(False, "", False, {})
    check_yaml_flags(False, "", True, {})                                  # --local needs no repository
    check_yaml_flags(False, "", False, {"KO_DOCKER_REPO": "reg.example/team"})


@pytest.mark.parametrize("config, environ, paths, expected", [
    (Config(), {}, ("./app",), False),                                       # nothing of ko's
    (Config(ko_source=".ko.yaml"), {}, ("./app",), True),                    # a .ko.yaml
    (Config(), {"KO_DOCKER_REPO": "r.io/t"}, ("./app",), True),              # a KO_* variable
    (Config(), {"KO_DEFAULTPLATFORMS": "linux/amd64"}, ("./app",), True),
    (Config(), {}, ("ko://example.com/app/cmd/x",), True),                   # ko's way of naming a package
    (Config(), {}, ("example.com/app/cmd/x",), True),
    (Config(source=".pyko.toml"), {"KO_DOCKER_REPO": "r.io/t"}, ("./app",), False),   # pyko's own project
    (Config(source=".pyko.toml"), {"KO_DOCKER_REPO": "r.io/t", "PYKO_KO_MODE": "true"}, ("./app",), True),
    (Config(ko_source=".ko.yaml"), {"PYKO_KO_MODE": "0"}, ("./app",), False),
])
def test_a_run_is_a_ko_users_when_something_of_kos_says_so(config, environ, paths, expected):
    from pyko.plan.resolve import ko_mode
    assert ko_mode(Flags(paths=paths), config, environ) is expected


@pytest.mark.parametrize("config, expected", [(Config(), True), (Config(source=".pyko.toml"), False)])
def test_a_ko_reference_in_resolves_yaml_makes_the_run_a_ko_users_unless_the_project_is_pykos(config, expected):
    from pyko.plan.resolve import ko_mode
    assert ko_mode(Flags(paths=("/src/cmd/app",), kubernetes=True, ko_references=True), config, {}) is expected
    assert ko_mode(Flags(paths=("/src/cmd/app",), kubernetes=True), config, {}) is False


def test_ko_mode_takes_kos_names_local_repository_and_entrypoint(pkg):
    from pyko.plan.resolve import ko_name
    path = "example.com/shop/cmd/server"
    assert ko_name(path) == "server-" + __import__("hashlib").md5(path.encode()).hexdigest()
    environ = {"KO_DOCKER_REPO": "r.io/shop"}
    build, = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), environ).builds
    assert build.image_name("server", path) == ko_name(path) and build.image.entrypoint
    for naming in ({"base_import_paths": True}, {"bare": True}, {"preserve_import_paths": True}):
        named, = resolve(Flags(paths=(str(pkg / "app"),), **naming), Config(root=str(pkg)), environ).builds
        assert named.image_name("server", path) != ko_name(path)
    pykos, = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), {"PYKO_DOCKER_REPO": "r.io/s"}).builds
    assert pykos.image_name("server", path) == "server" and not pykos.image.entrypoint
    local = resolve(Flags(paths=(str(pkg / "app"),), local=True), Config(root=str(pkg)), {"PYKO_KO_MODE": "1"})
    assert local.builds[0].repo == "ko.local"
    assert str(local.outputs.local_platform) == "linux/amd64"          # ko's pick out of several platforms
    pykos_local = resolve(Flags(paths=(str(pkg / "app"),), local=True), Config(root=str(pkg)), {})
    assert pykos_local.outputs.local_platform is None                  # this machine's, chosen where it loads
    local = resolve(Flags(paths=(str(pkg / "app"),), local=True), Config(root=str(pkg)), environ)
    assert local.builds[0].repo == "r.io/shop" and not local.outputs.push   # ko loads under KO_DOCKER_REPO
    with pytest.raises(UsageError, match="PYKO_KO_MODE=maybe is not true or false"):
        resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), {"PYKO_KO_MODE": "maybe"})


@pytest.mark.parametrize("environ, repo", [({"KO_DOCKER_REPO": "kind.local"}, ""), ({}, "kind.local/team")])
def test_kos_kind_publisher_is_refused_by_name_before_anything_is_built(pkg, environ, repo):
    with pytest.raises(UsageError, match=r"kind.local \(ko's publisher into a kind cluster\) is not supported"):
        resolve(Flags(paths=(str(pkg),), repo=repo), Config(), environ)


@pytest.mark.parametrize("environ, expected", [
    ({"KO_DOCKER_REPO": "r.io/t"}, "linux/amd64"),                                   # whatever this machine is
    ({"KO_DOCKER_REPO": "r.io/t", "GOOS": "linux", "GOARCH": "arm64"}, "linux/arm64"),
    ({"KO_DOCKER_REPO": "r.io/t", "GOOS": "linux", "GOARCH": "arm", "GOARM": "6"}, "linux/arm/v6"),
    ({"KO_DOCKER_REPO": "r.io/t", "GOARCH": "arm64"}, "linux/amd64"),               # ko needs both GOOS and GOARCH
    ({"KO_DOCKER_REPO": "r.io/t", "GOOS": "linux", "GOARCH": "arm64", "GOARM": "7"}, "linux/arm64"),
])
def test_a_ko_users_default_platform_is_kos_not_this_machines(pkg, monkeypatch, environ, expected):
    from pyko.platforms import Platform

    monkeypatch.setattr(Platform, "host", classmethod(lambda cls: cls.parse("linux/s390x")))
    build, = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), environ).builds
    assert build.platforms == (expected,)
    go_env = {"GOOS": "linux", "GOARCH": "arm64"}
    pykos, = resolve(Flags(paths=(str(pkg / "app"),)), Config(root=str(pkg)), go_env).builds
    assert pykos.platforms == ("linux/s390x",)                                       # pyko's own: this machine's
    given, = resolve(Flags(paths=(str(pkg / "app"),), platforms=("linux/386",)), Config(root=str(pkg)), environ).builds
    assert given.platforms == ("linux/386",)
