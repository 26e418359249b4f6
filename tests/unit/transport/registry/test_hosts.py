"""transport/registry/hosts.py: one client per host, sharing one retry counter and one reporter,
with each host's credentials from docker's config."""
import base64
import json

from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions
from pyko.util.progress import SilentReporter


def test_one_client_per_host_with_its_own_credentials(tmp_path):
    auth = base64.b64encode(b"me:secret").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg.example": {"auth": auth}}}))
    reporter = SilentReporter()
    registries = Registries(TransportOptions(environ={"DOCKER_CONFIG": str(tmp_path)}), reporter)
    first, again, other = registries("reg.example"), registries("reg.example"), registries("other.example")
    assert first is again and first is not other
    assert first.auth.credentials.username == "me" and other.auth.credentials.anonymous
    assert first.reporter is reporter and first.policy.counter is other.policy.counter
    first.policy.counter.add()
    assert registries.retries == 1
