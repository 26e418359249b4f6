"""toolchains/gocache/__init__.py: when `go` can use pyko's cache server, and how it is told to."""
import stat


def test_the_registry_cache_needs_a_go_with_gocacheprog(tmp_path):

    from pyko.toolchains import gocache

    def fake_go(version):
        path = tmp_path / f"go-{version}"
        path.write_text(f"#!/bin/sh\necho {version}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
        return str(path)

    old = {"PYKO_GO": fake_go("go1.23.4"), "PATH": "/usr/bin:/bin"}
    variables, version, reason = gocache.cacheprog_environment(old, str(tmp_path / "cache"))
    assert variables == {} and version == "go1.23.4" and "has no GOCACHEPROG (Go 1.24 or later has)" in reason
    new = {"PYKO_GO": fake_go("go1.26.8"), "PATH": "/usr/bin:/bin"}
    variables, version, reason = gocache.cacheprog_environment(new, str(tmp_path / "cache"))
    assert reason == "" and variables["GOCACHEPROG"].endswith(f"-m pyko.toolchains.gocache.server {tmp_path / 'cache'}")
