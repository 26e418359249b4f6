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




def _index_with_one_image(store):
    """An index in `store` (tag latest) listing one image manifest that is in the store too."""
    image = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": DIGEST, "size": 2},
                        "layers": []}).encode()
    store.tags["image"] = image
    image_digest, _ = store.resolve("image")
    child = {"mediaType": mediatypes.OCI_MANIFEST, "digest": image_digest, "size": len(image)}
    store.tags["latest"] = json.dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                                       "manifests": [child]}).encode()
    return store.resolve("latest")[0], image_digest


def test_sign_image_signs_an_index_and_recursively_its_images_in_either_form():
    from cryptography.hazmat.primitives.asymmetric import ec

    from pyko.supplychain.sign import sign_image
    from pyko.supplychain.signers import KeySigner

    store = MemoryStore()
    index, image = _index_with_one_image(store)
    signer = KeySigner(ec.generate_private_key(ec.SECP256R1()), "ci.key")
    legacy = sign_image(store, index, "reg.io/app", signer, recursive=True)
    assert [s.subject for s in legacy] == [index, image]
    assert all(s.tag.endswith(".sig") for s in legacy)
    bundle = sign_image(store, index, "reg.io/app", signer, form="bundle")
    assert [(s.subject, s.tag) for s in bundle] == [(index, "")]   # a referrer, named by its digest


def test_a_signing_failure_names_what_is_written_unsigned_and_the_line_that_signs_it():
    from pyko.errors import SigningError
    from pyko.supplychain.sign import Signing

    class Failing:
        description = "keyless (test)"

        def prepare(self):
            pass

        def sign_payload(self, payload):
            raise SigningError("Rekor did not log the signature: HTTP 503")

    store = MemoryStore()
    index, _ = _index_with_one_image(store)
    signing = Signing(Failing(), recursive=True, form="legacy")
    try:
        signing.sign(store, index, "reg.io/app", layout="out/")
    except SigningError as err:
        message = str(err)
    assert message.startswith(f"reg.io/app@{index} is written but not signed: Rekor did not log the signature")
    assert message.endswith(f"`pyko sign --recursive --oci-layout out/ reg.io/app@{index}`")
