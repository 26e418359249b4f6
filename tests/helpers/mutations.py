"""hypothesis strategies: random JSON, and valid OCI documents with one part replaced."""
import json

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25)
KEYS = ["schemaVersion", "mediaType", "manifests", "layers", "config", "digest", "size", "platform",
        "annotations", "architecture", "os", "variant", "rootfs", "diff_ids", "subject", "artifactType"]
DIGEST = "sha256:" + "a" * 64
VALID_INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 10,
     "platform": {"os": "linux", "architecture": "amd64"}, "annotations": {"a": "b"}}]}
VALID_MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 3},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGEST,
                              "size": 5, "annotations": {"dev.cosignproject.cosign/signature": "x"}}]}
VALID_CONFIG = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [DIGEST]},
                "config": {"Env": ["A=b"]}, "history": []}


def _mutate(doc, path, value):
    """`doc` with the element at `path` (indexes into nested lists/dicts, taken modulo) replaced."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    keys = list(doc.keys()) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[key] = _mutate(doc[key], path[1:], value)
    return copy


def mutated(valid):
    whole = st.builds(lambda v: json.dumps(v).encode(), json_values)
    changed = st.builds(lambda p, v: json.dumps(_mutate(valid, p, v)).encode(),
                        st.lists(st.integers(0, 10), max_size=4), json_values | st.sampled_from(KEYS))
    added = st.builds(lambda k, v: json.dumps({**valid, k: v}).encode(), st.sampled_from(KEYS), json_values)
    raw = st.binary(max_size=200)
    return whole | changed | added | raw
