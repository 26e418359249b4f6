"""Keyless checks on real data: the signature record Chainguard published for its static image,
checked offline against Sigstore's public-good trusted root (shipped by the sigstore package):
accepted as it is, refused when any byte of it changes."""
import base64
import copy
import json
import os
import re

import pytest

from pyko.errors import VerificationError
from pyko.supplychain.keyless import Identity, KeylessPolicy, load_trusted_root, verify_rekor_bundle

from oci_tools import REPO

# A copy of ../shared/testvectors/chainguard-static-rekor-entry.json: Chainguard's genuine record.
VECTOR = os.path.join(REPO, "testdata", "sigstore", "chainguard-static-rekor-entry.json")


@pytest.fixture(scope="module")
def vector():
    return json.load(open(VECTOR))


@pytest.fixture(scope="module")
def policy(vector):
    pytest.importorskip("sigstore", reason="pip install 'pyko-images[keyless]'")
    root = load_trusted_root("", offline=True)
    return KeylessPolicy(Identity(identity=vector["expectedIdentity"], issuer=vector["expectedIssuer"]), root)


def test_chainguards_record_verifies_against_the_public_good_root(vector, policy):
    entry = verify_rekor_bundle(vector["bundle"], policy)
    assert entry.integrated_time == vector["bundle"]["Payload"]["integratedTime"]


def test_the_chainguard_preset_accepts_chainguards_record_and_is_anchored(vector, policy):
    from pyko.supplychain.policy import PRESETS

    preset = PRESETS["chainguard"]
    identity = Identity("", preset["certificateIdentityRegexp"], preset["certificateOidcIssuer"], "")
    verify_rekor_bundle(vector["bundle"], KeylessPolicy(identity, policy.root))
    for lookalike in ("https://evil.example/?u=" + vector["expectedIdentity"],
                      vector["expectedIdentity"] + "/../../../evil"):
        assert re.search(preset["certificateIdentityRegexp"], lookalike) is None


@pytest.mark.parametrize("identity, issuer, check", [
    ("https://github.com/chainguard-images/static/.github/workflows/other.yaml@refs/heads/main", None, "identity"),
    (None, "https://accounts.google.com", "issuer"),
])
def test_another_identity_or_issuer_is_refused(vector, policy, identity, issuer, check):
    wanted = Identity(identity=identity or vector["expectedIdentity"], issuer=issuer or vector["expectedIssuer"])
    with pytest.raises(VerificationError, match=f"^{check}: "):
        verify_rekor_bundle(vector["bundle"], KeylessPolicy(wanted, policy.root))


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _body(bundle):
    return json.loads(base64.b64decode(bundle["Payload"]["body"]))


def _with_body(bundle, body):
    out = copy.deepcopy(bundle)
    out["Payload"]["body"] = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    return out


def _changed(vector, part, at):
    bundle = copy.deepcopy(vector["bundle"])
    if part == "SET":
        bundle["SignedEntryTimestamp"] = _flip(bundle["SignedEntryTimestamp"], at)
        return bundle
    if part == "integrated time":
        bundle["Payload"]["integratedTime"] += 1
        return bundle
    body = _body(bundle)
    spec = body["spec"]
    if part == "signature":
        spec["signature"]["content"] = _flip(spec["signature"]["content"], at)
    elif part == "logged hash":
        value = bytearray(bytes.fromhex(spec["data"]["hash"]["value"]))
        value[at % len(value)] ^= 0x01
        spec["data"]["hash"]["value"] = value.hex()
    elif part == "certificate":
        pem = base64.b64decode(spec["signature"]["publicKey"]["content"]).decode()
        der = bytearray(base64.b64decode("".join(pem.splitlines()[1:-1])))
        der[at % len(der)] ^= 0x01
        lines = base64.b64encode(bytes(der)).decode()
        pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines[i:i + 64] for i in range(0, len(lines), 64)) + \
            "\n-----END CERTIFICATE-----\n"
        spec["signature"]["publicKey"]["content"] = base64.b64encode(pem.encode()).decode()
    return _with_body(bundle, body)


@pytest.mark.parametrize("part", ["SET", "integrated time", "signature", "logged hash", "certificate"])
@pytest.mark.parametrize("at", [7, 40, 300])
def test_any_changed_byte_is_refused(vector, policy, part, at):
    with pytest.raises(VerificationError):
        verify_rekor_bundle(_changed(vector, part, at), policy)


def test_a_trusted_root_without_that_log_refuses_it(vector, policy, tmp_path):
    from pyko.supplychain.keyless.trustroot import TrustedRoot

    empty = TrustedRoot(policy.root.authorities, {}, policy.root.ctlogs, "no logs")
    with pytest.raises(VerificationError, match="^SET: the entry is from log"):
        verify_rekor_bundle(vector["bundle"], KeylessPolicy(policy.identity, empty))
    no_ct = TrustedRoot(policy.root.authorities, policy.root.tlogs, {}, "no CT logs")
    with pytest.raises(VerificationError, match="^SCT: "):
        verify_rekor_bundle(vector["bundle"], KeylessPolicy(policy.identity, no_ct))
