"""keyless/legacy.py: cosign's legacy `.sig` layout, which sigstore-python cannot read (its Rekor
bundle has no inclusion proof), checked by pyko with sigstore-go's rules (cosign v3's verifier for
this layout: pkg/cosign/verify.go and sigstore-go's tlog/SCT/chain checks). Each case names the
rule; the e2e suite runs real cosign v3 on the same kinds of vector."""
import datetime

import pytest

from pyko.supplychain import cosign
from pyko.supplychain.keyless import verify_legacy
from pyko.supplychain.keyless.identity import CheckFailed

from fake_sigstore import IDENTITY, ISSUER, FakeSigstore, legacy_layer, new_signer

DIGEST = "sha256:" + "ab" * 32
HOUR = datetime.timedelta(hours=1)


def _layer(fake, signer=None, payload=None, **log):
    signer = signer or new_signer(fake, IDENTITY, ISSUER)
    return legacy_layer(fake, signer, payload or cosign.payload("reg.io/app", DIGEST), **log)


def test_a_good_signature_passes(fake, policy):
    payload, annotations = _layer(fake)
    assert verify_legacy(payload, annotations, DIGEST, policy(), "signature 1") == payload


@pytest.mark.parametrize("case, check", [
    # sigstore-go: a legacy signature needs the SET; nothing else proves when it was made.
    ("no Rekor bundle", "SET"),
    # VerifySET: the SET must verify with the key of the log it names.
    ("a SET by another log key", "SET"),
    # VerifySET: the integrated time must lie inside the log key's validity window.
    ("the log key's window ended", "SET"),
    # verifyChain at the integrated time: a CA of the trusted root valid then.
    ("the Fulcio CA's window ended", "certificate chain"),
    ("a CA the root does not name", "certificate chain"),
    # the chain is built at the integrated time, when the leaf must be valid too (as sigstore-go's is).
    ("certificate expired at the integrated time", "certificate chain"),
    # VerifyEmbeddedSCT: a CT log key of the root, valid at the SCT's time.
    ("the CT log's window ended", "SCT"),
    ("an SCT by another CT log", "SCT"),
    # the hashedrekord entry must log this certificate, signature and payload.
    ("a log entry for another payload", "log entry"),
    # the simple-signing payload must name the image's digest.
    ("a payload for another digest", "digest claim"),
    ("a payload with case-twin keys", "digest claim"),
])
def test_each_forged_case_is_refused_naming_its_check(fake, policy, case, check):
    other = FakeSigstore()
    payload, annotations = _forged(fake, other, case)
    root = {"the log key's window ended": {"tlog_end": fake.stamp(-HOUR)},
            "the Fulcio CA's window ended": {"ca_end": fake.stamp(-HOUR)},
            "the CT log's window ended": {"ct_end": fake.stamp(-HOUR)}}.get(case, {})
    with pytest.raises(CheckFailed) as refused:
        verify_legacy(payload, annotations, DIGEST, policy(**root), "signature 1")
    assert refused.value.check == check


def _forged(fake, other, case):
    if case == "no Rekor bundle":
        payload, annotations = _layer(fake)
        return payload, {k: v for k, v in annotations.items() if k != "dev.sigstore.cosign/bundle"}
    if case == "a SET by another log key":
        return _layer(fake, rekor_key=other.rekor_key)
    if case == "a CA the root does not name":
        return _layer(fake, new_signer(fake, IDENTITY, ISSUER, ca_key=other.intermediate_key,
                                       ca_cert=other.intermediate))
    if case == "certificate expired at the integrated time":
        return _layer(fake, integrated=int((fake.now + HOUR).timestamp()))
    if case == "an SCT by another CT log":
        return _layer(fake, new_signer(fake, IDENTITY, ISSUER, sct_key=other.ct_key))
    if case == "a log entry for another payload":
        payload, annotations = _layer(fake)
        return payload.replace(b"reg.io/app", b"reg.io/bad"), annotations
    if case == "a payload for another digest":
        return _layer(fake, payload=cosign.payload("reg.io/app", "sha256:" + "cd" * 32))
    if case == "a payload with case-twin keys":
        twins = cosign.payload("reg.io/app", DIGEST)[:-1] + b',"CRITICAL":{}}'
        return _layer(fake, payload=twins)
    return _layer(fake)
