"""transport/registry/auth.py: WWW-Authenticate challenges as registries and token services send them."""
from pyko.transport.registry.auth import parse_challenges


def test_challenges():
    got = parse_challenges('Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull,push '
                           'repository:z:pull",error="insufficient_scope", Basic realm="b, c"')
    assert [c.scheme for c in got] == ["bearer", "basic"]
    assert got[0].params["scope"] == "repository:x/y:pull,push repository:z:pull"
    assert got[1].params["realm"] == "b, c"
    assert parse_challenges('basic realm="a\\"b"')[0].params == {"realm": 'a"b'}
