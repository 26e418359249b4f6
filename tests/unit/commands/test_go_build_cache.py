"""--cache-from/--cache-to around a build: nothing about the cache fails a build."""
from pyko.commands.go_build_cache import open_cache, save_cache
from pyko.errors import RegistryError
from pyko.plan.caches import GoCacheSettings, go_cache_settings
from pyko.util.progress import SilentReporter


class Lines(SilentReporter):
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)


def unreachable(host):
    raise RegistryError(f"cannot reach registry {host}: connection refused")


def test_no_cache_flags_means_no_cache(tmp_path):
    assert open_cache(GoCacheSettings(), unreachable, {}, str(tmp_path), 2, Lines()) is None


def _go_saying(tmp_path, version):
    """A stand-in `go` (PYKO_GO) that says its version, as `go env GOVERSION` does: no Go needed."""
    go = tmp_path / f"go-{version}"
    go.write_text(f"#!/bin/sh\necho {version}\n")
    go.chmod(0o755)
    return {"PYKO_GO": str(go), "PATH": "/usr/bin:/bin"}


def test_an_unreachable_cache_is_a_warning_and_a_cold_build(tmp_path):
    reporter = Lines()
    run = open_cache(go_cache_settings("127.0.0.1:9/cache", "127.0.0.1:9/cache", "", "", trust="none"), unreachable,
                     _go_saying(tmp_path, "go1.26.8"), str(tmp_path), 2, reporter)
    assert run is not None and run.environ["GOCACHEPROG"].endswith(f"-m pyko.toolchains.gocache.server {run.root}")
    assert any(line.startswith("warning: go cache from 127.0.0.1:9/cache") for line in reporter.lines)
    save_cache(run, unreachable, str(tmp_path), reporter)
    assert reporter.lines[-1].startswith("warning: go cache not saved to 127.0.0.1:9/cache")


def test_a_read_that_outlives_its_time_is_left_behind():
    import time

    import pytest

    from pyko.commands.go_build_cache import _within
    from pyko.errors import PykoError

    started = time.monotonic()
    with pytest.raises(PykoError, match="took longer than 0 s"):
        _within(0.2, lambda: time.sleep(5))
    assert time.monotonic() - started < 2
    assert _within(1, lambda: 42) == 42
    with pytest.raises(RegistryError):
        _within(1, lambda: unreachable("reg.io"))


def test_the_provenance_names_a_verified_cache_by_digest_and_signer_and_an_unverified_one_as_such():
    from pyko.commands.go_build_cache import CacheSource

    verified = CacheSource("reg.io/c:go-build-cache", "sha256:" + "a" * 64, True, "signed with ci.pub")
    assert verified.provenance() == {"uri": "reg.io/c:go-build-cache", "digest": "sha256:" + "a" * 64,
                                     "verified": True, "signer": "signed with ci.pub"}
    assert CacheSource("reg.io/c:x", "sha256:" + "b" * 64, False).provenance()["verified"] is False


def test_a_saved_cache_is_signed_only_by_a_signer_and_never_over_unverified_entries(tmp_path):
    from types import SimpleNamespace

    from pyko.commands.go_build_cache import CacheSource, GoCacheRun, _sign_saved
    from pyko.image import Descriptor
    from pyko.reference import Reference

    ref = Reference.parse("reg.io/c:go-build-cache")
    pushed = Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + "c" * 64, 10)
    run = GoCacheRun(go_cache_settings("", "reg.io/c", "", ""), str(tmp_path), "go1")
    reporter = Lines()
    _sign_saved(run, ref, pushed, unreachable, reporter, None, "")
    assert "saved unsigned: the build is not signed" in reporter.lines[-1]
    run.source = CacheSource(str(ref), "sha256:" + "d" * 64, False)
    _sign_saved(run, ref, pushed, unreachable, reporter, SimpleNamespace(description="key ci.key"), "")
    assert "holds entries read from an unverified cache" in reporter.lines[-1]
