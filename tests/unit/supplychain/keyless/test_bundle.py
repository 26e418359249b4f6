"""keyless/bundle.py: Sigstore bundles decided by sigstore-python's Verifier, plus sigstore-go's window
rules. Every vector here is also handed to sigstore-python directly (its public API), and the test
asserts what it decides and that pyko decides the same, except where sigstore-go (cosign v3) is
stricter than sigstore-python 4.5: a log key, CT log key or Fulcio CA whose window has ended."""
import datetime

import pytest
from sigstore.models import Bundle
from sigstore.verify import Verifier

from pyko.supplychain.keyless import Identity, verify_bundle
from pyko.supplychain.keyless.identity import CheckFailed

from fake_sigstore import IDENTITY, ISSUER, dsse_bundle, new_signer, statement_for

DIGEST = "sha256:" + "ab" * 32

HOUR = datetime.timedelta(hours=1)

#: case: (certificate options, bundle options, trusted-root options, sigstore-python's decision, pyko's check)
CASES = {
    "good": ({}, {}, {}, "accept", None),
    "no SET and no signed timestamp": ({}, {"with_set": False}, {}, "refuse", "bundle"),
    "no inclusion proof (v0.3)": ({}, {"with_proof": False}, {}, "refuse", "bundle"),
    "an inclusion proof without a checkpoint": ({}, {"with_checkpoint": False}, {}, "refuse", "bundle"),
    "a proof for another tree": ({}, {"proof_of_another_tree": True}, {}, "refuse", "bundle"),
    "certificate expired at the integrated time": ({}, {"integrated": "later"}, {}, "refuse", "bundle"),
    "certificate not yet valid": ({"not_before": "later"}, {}, {}, "refuse", "bundle"),
    "the log key's window ended before": ({}, {}, {"tlog_end": -HOUR}, "accept", "SET"),
    "the Fulcio CA's window ended before": ({}, {}, {"ca_end": -HOUR}, "accept", "certificate chain"),
    "the CT log's window ended before": ({}, {}, {"ct_end": -HOUR}, "accept", "SCT"),
}


def _vector(fake, case):
    issue, options, root, _, _ = CASES[case]
    if issue.get("not_before") == "later":
        issue = {"not_before": fake.now + 2 * HOUR}
    if options.get("integrated") == "later":
        options = {"integrated": int((fake.now + HOUR).timestamp())}
    signer = new_signer(fake, IDENTITY, ISSUER, **issue)
    return dsse_bundle(fake, signer, statement_for("reg.io/app", DIGEST), **options), \
        {key: fake.stamp(delta) for key, delta in root.items()}


def _sigstore_python(data, policy):
    try:
        Verifier(trusted_root=policy.root.for_sigstore()).verify_dsse(Bundle.from_json(data), policy.identity)
    except Exception:  # noqa: BLE001 - any refusal
        return "refuse"
    return "accept"


@pytest.mark.parametrize("case", sorted(CASES))
def test_pyko_decides_as_sigstore_python_or_as_sigstore_go_where_it_is_stricter(fake, policy, case):
    data, root = _vector(fake, case)
    keyless = policy(**root)
    assert _sigstore_python(data, keyless) == CASES[case][3]
    check = CASES[case][4]
    if check is None:
        statement, checks = verify_bundle(data, DIGEST, keyless, "bundle 1")
        assert statement.names_digest(DIGEST)
        assert checks.startswith("sigstore-python: certificate chain, SCT, inclusion proof and checkpoint, SET")
        assert "validity windows" in checks and checks.endswith("digest claim")
    else:
        with pytest.raises(CheckFailed) as refused:
            verify_bundle(data, DIGEST, keyless, "bundle 1")
        assert refused.value.check == check


def test_identity_regexps_are_searched_for_as_cosign_does(fake, policy):
    data, _ = _vector(fake, "good")
    for pattern, accepted in ((r"^https://github\.com/acme/", True), ("acme/base", True),
                              (r"^https://github\.com/other/", False), (r"^acme", False)):
        keyless = policy(Identity("", pattern, ISSUER, ""))
        assert _sigstore_python(data, keyless) == ("accept" if accepted else "refuse")
        if accepted:
            verify_bundle(data, DIGEST, keyless, "bundle 1")
        else:
            with pytest.raises(CheckFailed, match="identity"):
                verify_bundle(data, DIGEST, keyless, "bundle 1")


def test_a_statement_about_another_image_or_with_case_twin_keys_is_refused(fake, policy):
    signer = new_signer(fake, IDENTITY, ISSUER)
    other = dsse_bundle(fake, signer, statement_for("reg.io/app", "sha256:" + "cd" * 32))
    with pytest.raises(CheckFailed, match="digest claim: .*another image"):
        verify_bundle(other, DIGEST, policy(), "bundle 1")
    twins = statement_for("reg.io/app", DIGEST).replace(b'"subject"', b'"SUBJECT":[],"subject"', 1)
    with pytest.raises(CheckFailed, match="keys that differ only in case"):
        verify_bundle(dsse_bundle(fake, signer, twins), DIGEST, policy(), "bundle 1")


def test_something_that_is_not_a_bundle():
    from pyko.supplychain.keyless import KeylessPolicy, TrustedRoot

    root = TrustedRoot((), {}, {}, "empty")
    with pytest.raises(CheckFailed, match="no keyless material"):
        verify_bundle(b'{"mediaType": "x"}', DIGEST, KeylessPolicy(Identity(), root), "bundle 1")
