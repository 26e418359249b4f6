"""Go main packages of one run grouped into one `go build -o DIR/` per platform and settings."""
import os
import subprocess
import threading

import pytest

from pyko.errors import BuildError
from pyko.toolchains.go_groups import GoGroups, go_output_name


class FakeGo:
    """Records each invocation and writes the binaries `go build -o DIR/` would."""

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail
        self.lock = threading.Lock()

    def __call__(self, args, cwd, env):
        with self.lock:
            self.calls.append((list(args), cwd, env["GOARCH"]))
        if self.fail:
            return subprocess.CompletedProcess(args, 1, "", "# example.com/m/cmd/b\nbroken\n")
        outdir = args[args.index("-o") + 1]
        for path in args[args.index("--") + 1:]:
            with open(os.path.join(outdir, go_output_name(path)), "w") as f:
                f.write(path)
        return subprocess.CompletedProcess(args, 0, "", "")


def _alone(name, log):
    def run():
        log.append(name)
        return f"/alone/{name}"
    return run


@pytest.fixture
def env(tmp_path):
    return lambda arch, extra=(): {"GOOS": "linux", "GOARCH": arch, "GOTMPDIR": str(tmp_path / "gotmp"), **dict(extra)}


def test_packages_with_equal_settings_compile_in_one_invocation_per_platform(tmp_path, env):
    go, alone = FakeGo(), []
    groups = GoGroups(str(tmp_path))
    runners = {}
    for path in ("example.com/m/cmd/a", "example.com/m/cmd/b", "example.com/m/tool/v2"):
        for arch in ("amd64", "arm64"):
            runners[path, arch] = groups.runner(go, "/m", path, path.rsplit("/", 1)[-1], f"linux/{arch}",
                                                env(arch), ["-tags=x"], ["-s"], _alone(path, alone), "go")
    outputs = {key: run() for key, run in runners.items()}
    assert sorted(arch for _, _, arch in go.calls) == ["amd64", "arm64"] and alone == []
    args, cwd, _ = go.calls[0]
    assert cwd == "/m" and args[:3] == ["build", "-trimpath", "-o"] and "-tags=x" in args and "-ldflags=-s" in args
    assert args[args.index("--") + 1:] == ["example.com/m/cmd/a", "example.com/m/cmd/b", "example.com/m/tool/v2"]
    assert os.path.basename(outputs["example.com/m/tool/v2", "amd64"]) == "tool"
    assert open(outputs["example.com/m/cmd/b", "arm64"]).read() == "example.com/m/cmd/b"
    assert sorted(groups.sizes()) == [3, 3]


def test_different_settings_are_grouped_apart_and_a_group_of_one_builds_alone(tmp_path, env):
    go, alone = FakeGo(), []
    groups = GoGroups(str(tmp_path))
    a = groups.runner(go, "/m", "example.com/m/cmd/a", "a", "linux/amd64", env("amd64"), [], ["-s"],
                      _alone("a", alone), "go")
    b = groups.runner(go, "/m", "example.com/m/cmd/b", "b", "linux/amd64", env("amd64"), [], ["-X main.v=2"],
                      _alone("b", alone), "go")
    c = groups.runner(go, "/m", "example.com/m/cmd/c", "c", "linux/amd64", env("amd64", {"GOAMD64": "v3"}), [],
                      ["-s"], _alone("c", alone), "go")
    assert (a(), b(), c()) == ("/alone/a", "/alone/b", "/alone/c") and go.calls == []


def test_two_packages_go_would_name_alike_are_not_grouped(tmp_path, env):
    go, alone = FakeGo(), []
    groups = GoGroups(str(tmp_path))
    first = groups.runner(go, "/m", "example.com/m/a/server", "server", "linux/amd64", env("amd64"), [], [],
                          _alone("a", alone), "go")
    second = groups.runner(go, "/m", "example.com/m/b/server", "server", "linux/amd64", env("amd64"), [], [],
                           _alone("b", alone), "go")
    assert second() == "/alone/b" and first() == "/alone/a"


def test_a_failed_group_build_names_every_image_and_fails_each_once(tmp_path, env):
    go, alone = FakeGo(fail=True), []
    groups = GoGroups(str(tmp_path))
    runs = [groups.runner(go, "/m", f"example.com/m/cmd/{n}", n, "linux/amd64", env("amd64"), [], [],
                          _alone(n, alone), "go") for n in ("a", "b")]
    for run in runs:
        with pytest.raises(BuildError, match=r"go build failed for a, b \(linux/amd64, built together") as err:
            run()
        assert "broken" in err.value.details
    assert len(go.calls) == 1


def test_go_output_names():
    assert go_output_name("example.com/m/cmd/app") == "app"
    assert go_output_name("example.com/tool/v2") == "tool"
    assert go_output_name("app") == "app"
