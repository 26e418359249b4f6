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


def test_an_unreachable_cache_is_a_warning_and_a_cold_build(tmp_path):
    import os

    reporter = Lines()
    run = open_cache(go_cache_settings("127.0.0.1:9/cache", "127.0.0.1:9/cache", "", ""), unreachable,
                     dict(os.environ), str(tmp_path), 2, reporter)
    assert run is not None and "GOCACHEPROG" in run.environ
    assert any(line.startswith("warning: go cache from 127.0.0.1:9/cache") for line in reporter.lines)
    save_cache(run, unreachable, str(tmp_path), reporter)
    assert reporter.lines[-1].startswith("warning: go cache not saved to 127.0.0.1:9/cache")
