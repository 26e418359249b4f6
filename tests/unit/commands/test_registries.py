"""commands/registries.py: the plan's registry settings reach every client a command makes."""
from pyko.commands.registries import registries_for, transport_for
from pyko.plan.resolve import RegistrySettings
from pyko.util.progress import SilentReporter


def test_the_settings_reach_the_transport_unchanged():
    settings = RegistrySettings(insecure=True, ca_file="/etc/ca.pem", timeout=42.0, retries=3, backoff=0.25,
                                pool=9, cache_dir="/tmp/c")
    options = transport_for(settings, {"DOCKER_CONFIG": "/nowhere"})
    assert (options.insecure, options.ca_file, options.deadline, options.retries, options.backoff, options.pool,
            options.cache_dir) == (True, "/etc/ca.pem", 42.0, 3, 0.25, 9, "/tmp/c")
    assert options.environ == {"DOCKER_CONFIG": "/nowhere"}


def test_one_client_per_host_sharing_the_reporter(tmp_path):
    reporter = SilentReporter()
    registries = registries_for(RegistrySettings(), {"DOCKER_CONFIG": str(tmp_path)}, reporter)
    assert registries("127.0.0.1:5000") is registries("127.0.0.1:5000")
    assert registries("127.0.0.1:5000") is not registries("127.0.0.1:5001")
    assert registries.reporter is reporter
