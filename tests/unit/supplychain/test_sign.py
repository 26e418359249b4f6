"""Signing, verifying and SBOM attachment on an attachment store (an in-memory one here)."""
import json

from pyko.image import mediatypes
from pyko.supplychain.sign import attach_sbom, subjects

from memory_store import MemoryStore

DIGEST = "sha256:" + "ab" * 32


def test_sbom_goes_under_cosigns_tag():
    store = MemoryStore()
    assert attach_sbom(store, DIGEST, b'{"spdxVersion":"SPDX-2.3"}')[0].tag == "sha256-" + "ab" * 32 + ".sbom"
    layer = json.loads(store.tags["sha256-" + "ab" * 32 + ".sbom"])["layers"][0]
    assert layer["mediaType"] == "text/spdx+json" and store.blobs[layer["digest"]] == b'{"spdxVersion":"SPDX-2.3"}'


def test_subjects_of_an_index_recursively():
    store = MemoryStore()
    child = {"mediaType": mediatypes.OCI_MANIFEST, "digest": DIGEST, "size": 1}
    store.tags["latest"] = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                                       "manifests": [child]}).encode()
    index_digest, _ = store.resolve("latest")
    assert subjects(store, "latest", recursive=False) == [index_digest]
    assert subjects(store, "latest", recursive=True) == [index_digest, DIGEST]


