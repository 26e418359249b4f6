"""transport/destinations/__init__.py: what goes out, named <name>:<tag> for each tag."""
from pyko.transport.destinations import Outgoing

from tiny_images import tiny_index


def test_refs_name_every_tag():
    out = Outgoing("reg.io/team/app", tiny_index(), ("v1", "latest"))
    assert out.refs == ["reg.io/team/app:v1", "reg.io/team/app:latest"] and out.target is None
