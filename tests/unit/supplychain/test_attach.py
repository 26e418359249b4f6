"""supplychain/attach.py: what each subject gets, written in order (or in parallel) and reported by kind."""
import json
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.image import mediatypes
from pyko.image.blob import Descriptor
from pyko.supplychain.attach import Attaching, Subject, attach_all
from pyko.supplychain.signers import KeySigner

from memory_store import MemoryStore


class SlowMemoryStore(MemoryStore):
    """Records which subject each write was for; its first writes wait until two subjects are
    being written at once (or a second has passed), so parallel writing shows."""

    def __init__(self, parallel):
        super().__init__()
        self.parallel, self.order, self.overlapped = parallel, [], False
        self._both = threading.Barrier(2)

    def put(self, tag, manifest, blobs):
        if self.parallel and not self.overlapped:
            try:
                self._both.wait(timeout=1)
                self.overlapped = True
            except threading.BrokenBarrierError:
                pass
        self.order.append(tag)
        super().put(tag, manifest, blobs)

    def put_referrer(self, manifest, blobs):
        self.blobs[manifest.descriptor.digest] = manifest.data
        return False  # no referrers API: listed in the sha256-<hex> fallback index


def _subjects():
    index = Descriptor(mediatypes.OCI_INDEX, "sha256:" + "01" * 32, 300)
    images = [Descriptor(mediatypes.OCI_MANIFEST, "sha256:" + f"{n:02x}" * 32, 500) for n in (2, 3)]
    sbom = json.dumps({"spdxVersion": "SPDX-2.3"}).encode()
    return [Subject(index, sbom, signed=True, provenance={"buildDefinition": {}})] + \
        [Subject(image, sbom, provenance={"buildDefinition": {}}) for image in images]


@pytest.mark.parametrize("parallel", [False, True])
def test_attach_all_writes_each_subject_in_order_and_reports_by_kind(parallel):
    store, key = SlowMemoryStore(parallel), ec.generate_private_key(ec.SECP256R1())
    how = Attaching("reg.io/app", KeySigner(key), "legacy", (), "2023-11-14T22:13:20Z")
    stored = attach_all(store, _subjects(), how, jobs=4, parallel=store.parallel)
    assert store.overlapped == parallel
    # Reported grouped by kind, each group in subject order, however the writes interleaved.
    assert [s.kind for s in stored] == ["sbom", "sbom"] * 3 + ["signature"] + ["attestation"] * 3
    assert [s.subject for s in stored if s.kind == "attestation"] == [s.descriptor.digest for s in _subjects()]
    # Within one subject the order is fixed: its SBOM, its referrers fallback, its signature, its attestations.
    for subject in _subjects():
        hex_ = subject.descriptor.digest.split(":")[1]
        mine = [tag for tag in store.order if hex_ in tag]
        wanted = [f"sha256-{hex_}.sbom", f"sha256-{hex_}"] + ([f"sha256-{hex_}.sig"] if subject.signed else [])
        assert mine == wanted + [f"sha256-{hex_}.att"]
    layers = json.loads(store.tags[f"sha256-{'01' * 32}.att"])["layers"]
    assert len(layers) == 2  # SPDX and SLSA, both in the one .att manifest
