"""transport/registry/credentials.py: docker's config and credential helpers; secrets never in repr."""
import json

from pyko.transport.registry.credentials import DockerConfig


def test_docker_config_lookup_and_credentials_never_in_repr(tmp_path):
    import base64
    auth = base64.b64encode(b"me:pa:ss").decode()
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {"https://reg.example.com/v1/": {"auth": auth}, "other.io": {"identitytoken": "tok"}}}))
    cfg = DockerConfig(str(tmp_path))
    creds = cfg.get("reg.example.com")
    assert (creds.username, creds.password) == ("me", "pa:ss")  # split on the first ':'
    assert "pa:ss" not in repr(creds)
    assert cfg.get("other.io").identity_token == "tok" and "tok" not in repr(cfg.get("other.io"))
    assert cfg.get("nowhere.io").anonymous
