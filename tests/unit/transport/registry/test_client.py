"""Protocol edge cases the real registry does not produce on demand, on a small fake:
redirects to another host, 503/429 with Retry-After, upload retries, challenge parsing.
The real registry stays the end-to-end check (test_e2e_registry.py)."""
import hashlib
import json
import time

import pytest

from pyko.errors import RegistryError, UsageError
from pyko.image import BytesBlob
from pyko.reference import Reference, is_loopback
from pyko.transport.registry.auth import parse_challenges
from pyko.transport.registry.client import Registry, TransportOptions
from pyko.transport.registry.credentials import Credentials, DockerConfig
from pyko.transport.registry.repository import Repository

from fakes import Fake  # noqa: E402


def client(host, creds=Credentials(), retries=3):
    return Registry(host, creds, TransportOptions(retries=retries, backoff=0.01, environ={}))


def test_authorization_is_not_forwarded_to_another_host_on_redirect():
    blob = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    cdn = Fake(lambda m, p, h, n: (200, {}, blob))
    reg = Fake(lambda m, p, h, n: (401, {"WWW-Authenticate": 'Basic realm="r"'}, b"") if p == "/v2/" and n == 1
               else (307, {"Location": f"http://{cdn.host}/blob"}, b"") if "/blobs/" in p else (200, {}, b""))
    try:
        import os
        import tempfile
        dest = os.path.join(tempfile.mkdtemp(), "b")
        Repository(client(reg.host, Credentials("u", "pw")), "x/y").fetch_blob(digest, len(blob), dest)
        assert open(dest, "rb").read() == blob
        assert reg.seen[-1][2].get("Authorization", "").startswith("Basic ")
        assert "Authorization" not in cdn.seen[-1][2]
    finally:
        reg.close()
        cdn.close()


def test_503_then_ok_is_retried_and_429_honours_retry_after():
    def script(m, p, h, n):
        if p == "/v2/":
            return 200, {}, b""
        return {2: (503, {}, b""), 3: (429, {"Retry-After": "1"}, b"")}.get(n, (404, {}, b""))
    fake = Fake(script)
    try:
        started = time.monotonic()
        assert Repository(client(fake.host), "a/b").blob_exists("sha256:" + "0" * 64) is False
        assert time.monotonic() - started >= 1.0  # waited as told
        assert [s[0] for s in fake.seen] == ["GET", "HEAD", "HEAD", "HEAD"]
    finally:
        fake.close()


def test_failed_upload_restarts_with_a_new_session():
    blob = BytesBlob("application/octet-stream", b"x" * 1000)
    sessions = []

    def script(m, p, h, n):
        if p == "/v2/":
            return 200, {}, b""
        if m == "POST":
            sessions.append(n)
            return 202, {"Location": f"/v2/a/b/blobs/uploads/s{n}?state=abc"}, b""
        if m == "PUT":
            return (500, {}, b"") if len(sessions) == 1 else (201, {}, b"")
        return 404, {}, b""
    fake = Fake(script)
    try:
        Repository(client(fake.host), "a/b").upload_blob(blob)
        puts = [s for s in fake.seen if s[0] == "PUT"]
        assert len(sessions) == 2 and len(puts) == 2
        assert puts[1][1].startswith(f"/v2/a/b/blobs/uploads/s{sessions[1]}?state=abc&digest=sha256%3A")
        assert puts[1][3] == b"x" * 1000  # the whole body, again, from the start
    finally:
        fake.close()


@pytest.mark.parametrize("method, call", [
    ("PUT", lambda repo: repo.put_manifest("latest", b"{}", "application/vnd.oci.image.manifest.v1+json")),
    ("POST", lambda repo: repo.upload_blob(BytesBlob("application/octet-stream", b"x"))),
])
def test_a_refusal_says_what_the_registry_said(method, call):
    refusal = json.dumps({"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]})

    def script(m, p, h, n):
        if p == "/v2/":
            return 200, {}, b""
        return (400, {"Content-Type": "application/json"}, refusal.encode()) if m == method else (404, {}, b"")
    fake = Fake(script)
    try:
        with pytest.raises(RegistryError, match=r"answered 400 .*\(MANIFEST_BLOB_UNKNOWN: blob unknown to registry\)"):
            call(Repository(client(fake.host), "a/b"))
    finally:
        fake.close()


def test_a_manifest_naming_a_blob_the_registry_does_not_know_yet_is_put_again_twice_at_most():
    refusal = json.dumps({"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]})
    manifest = b'{"schemaVersion": 2}'

    def script(refusals):
        def answer(m, p, h, n):
            if m != "PUT":
                return 200, {}, b""
            puts = sum(1 for s in fake.seen if s[0] == "PUT")
            if puts <= refusals:
                return 400, {"Content-Type": "application/json"}, refusal.encode()
            return 201, {"Docker-Content-Digest": "sha256:" + hashlib.sha256(manifest).hexdigest()}, b""
        return answer
    for refusals, lands in ((1, True), (2, True), (3, False)):
        fake = Fake(script(refusals))
        try:
            repo = Repository(client(fake.host, retries=8), "a/b")
            if lands:
                repo.put_manifest("v1", manifest, "application/vnd.oci.image.manifest.v1+json")
            else:
                with pytest.raises(RegistryError, match="MANIFEST_BLOB_UNKNOWN"):
                    repo.put_manifest("v1", manifest, "application/vnd.oci.image.manifest.v1+json")
            assert sum(1 for s in fake.seen if s[0] == "PUT") == min(refusals + 1, 3)
        finally:
            fake.close()


def test_manifest_with_wrong_digest_is_refused():
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}).encode()
    fake = Fake(lambda m, p, h, n: (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body))
    try:
        with pytest.raises(RegistryError, match="not sha256:1111.*gave up after 3 retries"):
            Repository(client(fake.host), "a/b").get_manifest("sha256:" + "1" * 64)
        assert [s[0] for s in fake.seen].count("GET") == 5  # /v2/, then the manifest 4 times
    finally:
        fake.close()


def test_plain_http_is_refused_for_remote_registries():
    reg = client("registry.invalid:5000", retries=0)
    assert not reg.plain_http_allowed
    assert client("127.0.0.1:5000").plain_http_allowed and client("localhost:5000").plain_http_allowed
    assert client("[::1]:5000").plain_http_allowed
    assert Registry("example.com", Credentials(), TransportOptions(insecure=True, environ={})).plain_http_allowed


def test_challenges():
    got = parse_challenges('Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull,push '
                           'repository:z:pull",error="insufficient_scope", Basic realm="b, c"')
    assert [c.scheme for c in got] == ["bearer", "basic"]
    assert got[0].params["scope"] == "repository:x/y:pull,push repository:z:pull"
    assert got[1].params["realm"] == "b, c"
    assert parse_challenges('basic realm="a\\"b"')[0].params == {"realm": 'a"b'}


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


def test_tls_errors_are_not_retried_but_connection_errors_are():
    import socket

    # A plain-HTTP server asked for HTTPS: a TLS failure, an answer, never retried.
    fake = Fake(lambda m, p, h, n: (200, {}, b""))
    reg = client(fake.host, retries=3)
    reg.plain_http_allowed = reg.http.plain_http_allowed = False  # as for a remote registry
    try:
        with pytest.raises(RegistryError, match="TLS"):
            reg.connect()
        assert reg.retries == 0 and fake.seen == []
    finally:
        fake.close()
    with socket.socket() as s:  # a port nobody listens on: refused, retried 3 times
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = client(f"127.0.0.1:{port}", retries=3)
    with pytest.raises(RegistryError, match="cannot reach registry .*connection refused"):
        reg.connect()
    assert reg.retries == 3  # and no plain-HTTP try on a port that refused connections


def test_registry_warnings_are_kept_for_the_user():
    warning = '299 - "this repository is deprecated"'
    fake = Fake(lambda m, p, h, n: (200, {"Warning": warning} if p != "/v2/" else {}, b""))
    try:
        reg = client(fake.host)
        assert Repository(reg, "a/b").blob_exists("sha256:" + "0" * 64)
        assert Repository(reg, "a/b").blob_exists("sha256:" + "1" * 64)
        assert reg.warnings == [warning]  # once, however often it was sent
    finally:
        fake.close()
