"""transport/registry/repository.py: uploads restarted whole, manifests re-put when a blob is not known yet,
wrong digests refused, byte progress for big blobs (fake registries)."""
import hashlib
import json
import os

import pytest

from pyko.errors import RegistryError
from pyko.image import BytesBlob
from pyko.transport.registry.client import Registry
from pyko.transport.registry.credentials import Credentials
from pyko.transport.registry.http import TransportOptions
from pyko.transport.registry.repository import LARGE_BLOB, Repository

from fakes import Fake


def client(host, creds=Credentials(), retries=3):
    return Registry(host, creds, TransportOptions(retries=retries, backoff=0.01, environ={}))


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
        with pytest.raises(RegistryError, match="not sha256:1111.*the same check failed when it was fetched again"):
            Repository(client(fake.host), "a/b").get_manifest("sha256:" + "1" * 64)
        # /v2/, then the manifest twice: bytes that fail their digest are fetched again once, not 3 times
        assert [s[0] for s in fake.seen].count("GET") == 3
    finally:
        fake.close()


def test_a_poisoned_tag_body_is_fetched_again_once_not_eight_times():
    """Nested 100,000 deep: not a manifest. The same server sends the same bytes every time."""
    body = b"[" * 100_000 + b"]" * 100_000
    fake = Fake(lambda m, p, h, n: (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, body))
    try:
        with pytest.raises(RegistryError, match="the same check failed when it was fetched again"):
            Repository(client(fake.host, retries=8), "a/b").get_manifest("latest")
        assert [s[0] for s in fake.seen].count("GET") == 3  # /v2/, then the tag twice
    finally:
        fake.close()


class Recorder:
    def __init__(self):
        self.transfers, self.lines = [], []

    def info(self, message):
        self.lines.append(message)

    def transfer(self, label, total):
        record = {"label": label, "total": total, "seen": 0, "done": False}
        self.transfers.append(record)

        class Handle:
            def __call__(self, n):
                record["seen"] += n

            def done(self):
                record["done"] = True
        return Handle()


def test_big_blobs_report_byte_progress_both_ways(tmp_path):
    data = os.urandom(LARGE_BLOB + 12345)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    stored = {}

    def script(m, p, h, n):
        if m == "POST":
            return 202, {"Location": "/v2/a/b/blobs/uploads/1"}, b""
        if m == "PUT":
            return 201, {}, b""
        if m == "GET" and "/blobs/" in p:
            return 200, {}, data
        return (200, {}, b"") if p == "/v2/" else (404, {}, b"")
    fake = Fake(script)
    try:
        reporter = Recorder()
        repo = Repository(Registry(fake.host, Credentials(), TransportOptions(environ={}), reporter), "a/b")
        repo.upload_blob(BytesBlob("application/octet-stream", data))
        repo.fetch_blob(digest, len(data), str(tmp_path / "blob"))
        repo.upload_blob(BytesBlob("application/octet-stream", b"small"))
        stored["put"] = [s for s in fake.seen if s[0] == "PUT"][0][3]
    finally:
        fake.close()
    assert stored["put"] == data
    assert [(t["label"][:11], t["total"], t["seen"], t["done"]) for t in reporter.transfers] == [
        ("uploading s", len(data), len(data), True), ("downloading", len(data), len(data), True)]
