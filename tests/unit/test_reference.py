"""reference.py: image references parsed and refused as docker does; which hosts are loopback."""
import pytest

from pyko.errors import UsageError
from pyko.reference import Reference, is_loopback


@pytest.mark.parametrize("text, parts", [
    ("alpine", ("docker.io", "library/alpine", "", "")),
    ("me/app:v1", ("docker.io", "me/app", "v1", "")),
    ("localhost:5000/a/b@sha256:" + "a" * 64, ("localhost:5000", "a/b", "", "sha256:" + "a" * 64)),
    ("cgr.dev/chainguard/static:latest", ("cgr.dev", "chainguard/static", "latest", "")),
    ("[::1]:5000/x:t", ("[::1]:5000", "x", "t", "")),
    ("index.docker.io/library/busybox", ("docker.io", "library/busybox", "", "")),
])
def test_references(text, parts):
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == parts


@pytest.mark.parametrize("text", ["Reg.io/Upper", "x@sha256:short", "a/b:-bad", "reg.io/"])
def test_bad_references(text):
    with pytest.raises(UsageError):
        Reference.parse(text)


def test_loopback():
    assert is_loopback("127.0.0.1:5000") and is_loopback("localhost") and is_loopback("[::1]:443")
    assert not is_loopback("10.0.0.1:5000") and not is_loopback("example.com")
