"""keyless/identity.py: cosign's matching rules: exact values compared whole, regexps searched for
(Go's MatchString), every subject alternative name a candidate, the issuer from Fulcio's v2
extension, else v1; and the same rules as a sigstore-python VerificationPolicy."""
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore.errors import VerificationError as SigstoreVerificationError

from pyko.supplychain.keyless.identity import (
    ISSUER_V1,
    ISSUER_V2,
    CheckFailed,
    Identity,
    issuer_of,
    matches,
    subject_alternative_names,
)

from fake_sigstore import IDENTITY, ISSUER, FakeSigstore, new_signer


@pytest.mark.parametrize("value, exact, pattern, expected", [
    ("https://github.com/my-org/repo/.github/workflows/x.yaml@refs/heads/main", "", r"^https://github\.com/my-org/",
     True),                                           # the form cosign's docs use
    ("https://github.com/my-org/repo", "", "my-org", True),   # unanchored, as Go's MatchString
    ("https://github.com/other/repo", "", r"^https://github\.com/my-org/", False),
    ("https://evil.example/?https://github.com/my-org/", "", r"^https://github\.com/my-org/", False),
    ("https://github.com/my-org/repo", "https://github.com/my-org", "", False),    # exact is whole
    ("https://github.com/my-org", "https://github.com/my-org", "", True),
])
def test_matching(value, exact, pattern, expected):
    assert matches(value, exact, pattern) is expected


def _cert(names, issuer_v1=None, issuer_v2=None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
               .public_key(key.public_key()).serial_number(1).not_valid_before(now)
               .not_valid_after(now + datetime.timedelta(minutes=10))
               .add_extension(x509.SubjectAlternativeName(names), True))
    if issuer_v1 is not None:
        builder = builder.add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer_v1.encode()), False)
    if issuer_v2 is not None:
        raw = issuer_v2.encode()
        builder = builder.add_extension(x509.UnrecognizedExtension(ISSUER_V2, bytes([0x0C, len(raw)]) + raw), False)
    return builder.sign(key, hashes.SHA256())


def test_every_kind_of_san_is_a_candidate_and_v2_issuer_wins():
    cert = _cert([x509.RFC822Name("me@example.com"), x509.UniformResourceIdentifier("https://ci.example/job"),
                  x509.DNSName("build.example")], issuer_v1="https://v1.example", issuer_v2="https://v2.example")
    assert subject_alternative_names(cert) == ["me@example.com", "https://ci.example/job", "build.example"]
    assert issuer_of(cert) == "https://v2.example"
    assert issuer_of(_cert([x509.DNSName("a.example")], issuer_v1="https://v1.example")) == "https://v1.example"
    assert issuer_of(_cert([x509.DNSName("a.example")])) == ""
    Identity("me@example.com", "", "", r"v2\.example").check(cert)
    with pytest.raises(CheckFailed, match="issuer: the OIDC issuer is https://v2.example"):
        Identity("me@example.com", "", "https://v1.example", "").check(cert)


def test_as_a_sigstore_policy_it_raises_sigstores_error():
    signer = new_signer(FakeSigstore(), IDENTITY, ISSUER)
    Identity("", "^https://github\\.com/acme/", ISSUER, "").verify(signer.cert)
    with pytest.raises(SigstoreVerificationError, match="identity: the certificate is for"):
        Identity("someone-else", "", ISSUER, "").verify(signer.cert)
