"""Protocol edge cases the real registry does not produce on demand, on a small fake:
redirects to another host, 503/429 with Retry-After, upload retries, challenge parsing.
The real registry stays the end-to-end check (test_e2e_registry.py)."""
import hashlib
import json
import time

import pytest

from pyko.errors import RegistryError
from pyko.image import BytesBlob
from pyko.transport.registry.client import Registry, TransportOptions
from pyko.transport.registry.credentials import Credentials
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


def test_plain_http_is_refused_for_remote_registries():
    reg = client("registry.invalid:5000", retries=0)
    assert not reg.plain_http_allowed
    assert client("127.0.0.1:5000").plain_http_allowed and client("localhost:5000").plain_http_allowed
    assert client("[::1]:5000").plain_http_allowed
    assert Registry("example.com", Credentials(), TransportOptions(insecure=True, environ={})).plain_http_allowed


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
    with socket.socket() as s:  # a port nobody listens on, at first contact: refused, not retried
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = client(f"127.0.0.1:{port}", retries=3)
    with pytest.raises(RegistryError, match="cannot reach registry .*connection refused: nothing listens at"):
        reg.connect()
    assert reg.retries == 0  # and no plain-HTTP try on a port that refused connections


def test_a_registry_that_answered_once_is_waited_for_when_it_refuses():
    fake = Fake(lambda m, p, h, n: (200, {}, b""))
    reg = client(fake.host, retries=2)
    reg.connect()
    fake.close()
    fake.httpd.server_close()   # restarting: the port now refuses
    with pytest.raises(RegistryError, match="connection refused .*gave up after 2 retries"):
        reg.policy.run("GET x", lambda: reg.request("GET", "/v2/x/manifests/latest", []))
    assert reg.retries == 2


def test_a_name_that_does_not_resolve_fails_at_once_with_a_hint_about_the_name(monkeypatch):
    import socket
    import time

    def unresolvable(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    reg = client("registry.invalid", retries=5)
    reg.plain_http_allowed = reg.http.plain_http_allowed = True   # even with a plain-HTTP fallback
    started = time.monotonic()
    with pytest.raises(RegistryError, match="name or service not known: check the host name registry.invalid"):
        reg.connect()
    assert reg.retries == 0 and time.monotonic() - started < 2


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
