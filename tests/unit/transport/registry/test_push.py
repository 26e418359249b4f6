"""Pushing an index: existing blobs skipped, base layers mounted, manifests then tags."""
import collections
import concurrent.futures as cf
import threading
import time

from pyko.image import BytesBlob, Image, Index, Layer
from pyko.reference import Reference
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions
from pyko.transport.registry.push import PushStats, push_blob, push_index
from pyko.transport.registry.repository import Repository

from hostile import FakeRegistry


def _index(source):
    base_layer = Layer(BytesBlob("application/vnd.oci.image.layer.v1.tar+gzip", b"base"), "sha256:" + "1" * 64,
                       source=source)
    app_layer = Layer(BytesBlob("application/vnd.oci.image.layer.v1.tar+gzip", b"app"), "sha256:" + "2" * 64)
    config = {"architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [base_layer.diff_id, app_layer.diff_id]}}
    return Index.build([Image.build(config, [base_layer, app_layer])])


def test_push_mounts_base_layers_uploads_the_rest_and_tags(tmp_path):
    fake = FakeRegistry()
    mounts = []

    def post(h):
        if "mount=" in h.path:
            mounts.append(h.path)
            fake.blobs[h.path.split("mount=", 1)[1].split("&", 1)[0].replace("%3A", ":")] = b"mounted"
            return h.reply(201)
        h.reply(202, headers={"Location": "/v2/team/app/blobs/uploads/s"})
    fake.routes.append(("POST", "/v2/team/app/blobs/uploads/", post))
    fake.accepting_pushes("team/app")
    try:
        index = _index(f"{fake.host}/library/base")
        target = Reference.parse(f"{fake.host}/team/app")
        stats = push_index(Registries(TransportOptions())(fake.host), target, index, ["latest", "v1"])
        assert len(mounts) == 1 and "from=library%2Fbase" in mounts[0]
        assert stats.mounted == 1 and stats.uploaded == 2 and stats.existing == 0  # app layer and config
        puts = [s.path for s in fake.seen if s.method == "PUT" and "/manifests/" in s.path]
        assert puts[-2:] == ["/v2/team/app/manifests/latest", "/v2/team/app/manifests/v1"]
        # A second push finds everything there.
        again = push_index(Registries(TransportOptions())(fake.host), target, index, ["latest"])
        assert again.uploaded == 0 and again.existing == 3
    finally:
        fake.close()


def test_layers_from_another_registry_are_uploaded_not_mounted(tmp_path):
    fake = FakeRegistry()
    fake.accepting_pushes("team/app")
    try:
        stats = push_index(Registries(TransportOptions())(fake.host), Reference.parse(f"{fake.host}/team/app"),
                           _index("other.io/library/base"), ["latest"])
        assert stats.mounted == 0 and stats.uploaded == 3
        assert not [s for s in fake.seen if "mount=" in s.path]
    finally:
        fake.close()


def test_an_index_already_there_only_moves_the_tags_that_need_it():
    fake = FakeRegistry()
    index = _index("")
    try:
        def head(h):
            ident = h.path.rsplit("/", 1)[1]
            there = ident in (index.digest, "latest")  # "latest" already points at it, "v2" does not
            h.reply(200 if there else 404, headers={"Docker-Content-Digest": index.digest} if there else None)
        fake.route("HEAD", "/v2/team/app/manifests/.*", head)
        fake.accepting_pushes("team/app")
        stats = push_index(Registries(TransportOptions())(fake.host), Reference.parse(f"{fake.host}/team/app"), index,
                           ["latest", "v2"])
        assert [s.path for s in fake.seen if s.method == "PUT"] == ["/v2/team/app/manifests/v2"]
        assert not [s for s in fake.seen if "/blobs/" in s.path]  # no blob was even looked at
        assert stats.uploaded == 0 and stats.tags_already == 1
        assert "1 tag(s) already pointed at it" in stats.summary()
    finally:
        fake.close()


def test_threads_never_upload_one_blob_into_one_repository_at_once():
    """Referrers of different subjects all carry the empty config `{}`. distribution rewrites a blob's
    link file on every upload, and a manifest PUT that reads it mid-rewrite is refused (seen in CI)."""
    fake = FakeRegistry()
    in_flight, most, lock = collections.Counter(), collections.Counter(), threading.Lock()

    def slow_put(h):
        digest = h.path.split("digest=", 1)[1].replace("%3A", ":")
        with lock:
            in_flight[digest] += 1
            most[digest] = max(most[digest], in_flight[digest])
        time.sleep(0.2)      # long enough for every other thread to find the blob missing
        fake.blobs[digest] = h.body
        with lock:
            in_flight[digest] -= 1
        h.reply(201)
    fake.route("PUT", "/v2/team/app/blobs/uploads/.*", slow_put)
    fake.accepting_pushes("team/app")
    try:
        registry = Registries(TransportOptions())(fake.host)
        empty = BytesBlob("application/vnd.oci.empty.v1+json", b"{}")
        stats = [PushStats() for _ in range(4)]
        with cf.ThreadPoolExecutor(4) as pool:   # one Repository each, as each attachment store has
            list(pool.map(lambda s: push_blob(Repository(registry, "team/app"), empty, "", s), stats))
        assert most[empty.descriptor.digest] == 1
        assert sum(s.uploaded for s in stats) == 1 and sum(s.existing for s in stats) == 3
    finally:
        fake.close()


def test_an_image_written_alone_is_pushed_and_tagged_with_no_index():
    """ko's way with one platform: the image's manifest by digest, then the tag on it; no index at all."""
    fake = FakeRegistry()
    fake.accepting_pushes("team/app")
    try:
        index = _index("")
        image, = index.images
        push_index(Registries(TransportOptions())(fake.host), Reference.parse(f"{fake.host}/team/app"), index,
                   ["latest"], alone=True)
        puts = [(s.path, s.headers.get("Content-Type")) for s in fake.seen
                if s.method == "PUT" and "/manifests/" in s.path]
        assert puts == [(f"/v2/team/app/manifests/{image.digest}", "application/vnd.oci.image.manifest.v1+json"),
                        ("/v2/team/app/manifests/latest", "application/vnd.oci.image.manifest.v1+json")]
    finally:
        fake.close()
