"""toolchains/drivers.py: which driver a source is for, and what a pyko:// reference names
(directories here; Go import paths through `go list` are covered end to end)."""
import pytest

from pyko.errors import UsageError
from pyko.platforms import Platform
from pyko.toolchains import Source
from pyko.toolchains.drivers import driver_for, locate
from pyko.toolchains.go import GoDriver
from pyko.toolchains.prebuilt import PrebuiltDriver
from pyko.toolchains.rust import RustDriver


def test_each_kind_of_source_finds_its_driver(tmp_path):
    go, crate, empty = tmp_path / "go", tmp_path / "crate", tmp_path / "empty"
    for d in (go, crate, empty):
        d.mkdir()
    (go / "main.go").write_text("package main\n")
    (crate / "Cargo.toml").write_text("[package]\nname = 'x'\n")
    assert isinstance(driver_for(Source(str(go))), GoDriver)
    assert isinstance(driver_for(Source(str(crate))), RustDriver)
    prebuilt = Source("", "tool", binaries={Platform.parse("linux/amd64"): "t"})
    assert isinstance(driver_for(prebuilt), PrebuiltDriver)
    with pytest.raises(UsageError, match="holds no Go source files and no Cargo.toml"):
        driver_for(Source(str(empty)))


def test_references_to_directories(tmp_path):
    (tmp_path / "cmd" / "app").mkdir(parents=True)
    (tmp_path / "cmd" / "app" / "main.go").write_text("package main\n")
    (tmp_path / "docs").mkdir()
    assert locate("./cmd/app", str(tmp_path), {}) == str(tmp_path / "cmd" / "app")
    assert locate(str(tmp_path / "cmd" / "app"), "/", {}) == str(tmp_path / "cmd" / "app")
    assert locate("./docs", str(tmp_path), {}) == ""  # nothing buildable there
    assert locate("./absent", str(tmp_path), {}) == ""


class _Recording:
    """A driver that claims sources under one directory and records what the run asks of it."""

    def __init__(self, prefix, line):
        self.prefix, self.line, self.prepared, self.targets = prefix, line, [], []

    def claims(self, source):
        return source.path.startswith(self.prefix)

    def prepare_run(self, sources, environ, cache_dir):
        self.prepared.append([s.path for s in sources])
        return {"sources": len(sources), "cache": cache_dir}   # the driver's own state for the run

    def target(self, source, platforms, context, state=None):
        self.targets.append(source.path)
        return state

    def summary(self, state):
        return f"{self.line} ({state['sources']})" if self.line else ""


def test_a_run_prepares_each_driver_once_with_its_own_sources_and_collects_their_lines(monkeypatch):
    from pyko.toolchains import drivers

    first, second, idle = _Recording("/a/", "a: 2 together"), _Recording("/b/", ""), _Recording("/c/", "unused")
    monkeypatch.setattr(drivers, "DRIVERS", (first, second, idle))
    sources = [Source("/a/one"), Source("/b/two"), Source("/a/three")]
    run = drivers.ToolchainRun(sources, {}, "/cache")
    assert (first.prepared, second.prepared, idle.prepared) == ([["/a/one", "/a/three"]], [["/b/two"]], [])
    assert run.target(Source("/a/three"), [], None) == {"sources": 2, "cache": "/cache"}   # its own state
    assert first.targets == ["/a/three"]
    assert run.summary() == ["a: 2 together (2)"]   # a driver with no sources says nothing; "" is left out
