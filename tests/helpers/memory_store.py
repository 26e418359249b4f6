"""The AttachmentStore protocol over dicts, for unit tests of signing, attaching and verifying."""
import json

from pyko.image import BytesBlob


class MemoryStore:
    """The AttachmentStore protocol over dicts."""

    def __init__(self):
        self.tags, self.blobs = {}, {}

    def resolve(self, ident):
        data = self.manifest_bytes(ident) if ident.startswith("sha256:") else self.tags[ident]
        return BytesBlob("", data).descriptor.digest, json.loads(data)["mediaType"]

    def manifest(self, tag):
        return self.tags.get(tag)

    def manifest_bytes(self, digest):
        """By digest: a tagged manifest, or one stored among blobs (a referrer in a fallback index's push)."""
        tagged = [d for d in self.tags.values() if BytesBlob("", d).descriptor.digest == digest]
        return tagged[0] if tagged else self.blobs[digest]

    def blob(self, desc):
        return self.blobs[desc.digest]

    def put(self, tag, manifest, blobs):
        for blob in blobs:
            self.blobs[blob.descriptor.digest] = blob.data
        self.tags[tag] = manifest.data

    def referrers_index(self, digest):
        return None  # no referrers API: the sha256-<hex> tag is used

    def put_referrer(self, manifest, blobs):
        return False
