"""Who must have signed: cosign's --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp],
matched as cosign matches them.

cosign (pkg/cosign/verify.go, CheckCertificatePolicy) compares an exact identity or issuer
with `==`, and a regular expression with Go's `regexp.MatchString`, which is an unanchored
search: `^https://github\\.com/my-org/` matches any workflow of my-org, and `my-org` matches
anything that contains it. Python's `re.search` is the same search (the patterns users copy
from cosign's documentation use the syntax both engines share). The identity may be any of
the certificate's subject alternative names (cosign's GetSubjectAlternateNames: email, URI,
DNS, IP and Fulcio's otherName username); the issuer is Fulcio's v2 extension, else v1.

An Identity is also a sigstore-python VerificationPolicy (`verify(cert)`), so a bundle's
certificate is matched by sigstore-python's Verifier with exactly the same rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from ...errors import VerificationError, clean_text

ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
#: Fulcio's SAN otherName for a username identity (a DER UTF8String).
OTHERNAME_USERNAME = ObjectIdentifier("1.3.6.1.4.1.57264.1.7")


class CheckFailed(VerificationError):
    """One named check failed."""

    def __init__(self, check: str, why: str):
        super().__init__(f"{check}: {why}")
        self.check = check


@dataclass(frozen=True)
class Identity:
    identity: str = ""
    identity_regexp: str = ""
    issuer: str = ""
    issuer_regexp: str = ""

    def check(self, cert: x509.Certificate) -> None:
        """Raise CheckFailed("identity" or "issuer") unless `cert` is this identity's."""
        names = subject_alternative_names(cert)
        if not any(matches(name, self.identity, self.identity_regexp) for name in names):
            shown = ", ".join(clean_text(n, 120) for n in names) or "no subject alternative name"
            raise CheckFailed("identity", f"the certificate is for {shown}, "
                                          f"not {self.identity or '/' + self.identity_regexp + '/'}")
        found = issuer_of(cert)
        if not matches(found, self.issuer, self.issuer_regexp):
            raise CheckFailed("issuer", f"the OIDC issuer is {clean_text(found, 120) or 'not given'}, "
                                        f"not {self.issuer or '/' + self.issuer_regexp + '/'}")

    def verify(self, cert: x509.Certificate) -> None:
        """sigstore-python's VerificationPolicy: the same check, raising sigstore's error type."""
        from sigstore.errors import VerificationError as SigstoreVerificationError

        try:
            self.check(cert)
        except CheckFailed as err:
            raise SigstoreVerificationError(str(err)) from None


def matches(value: str, exact: str, pattern: str) -> bool:
    """cosign's rule: an exact value is compared whole, a pattern is searched for (unanchored)."""
    if exact:
        return value == exact
    return re.search(pattern, value) is not None


def subject_alternative_names(cert: x509.Certificate) -> List[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = [str(name.value) for name in names
           if isinstance(name, (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName, x509.IPAddress))]
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id == OTHERNAME_USERNAME:
            out.append(_der_utf8(other.value))
    return out


def issuer_of(cert: x509.Certificate) -> str:
    """The OIDC issuer: Fulcio's v2 extension (a DER UTF8String), else v1 (raw bytes)."""
    for oid, der in ((ISSUER_V2, True), (ISSUER_V1, False)):
        try:
            extension = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        if not isinstance(extension, x509.UnrecognizedExtension):
            continue   # cryptography parses no Fulcio extension; one it did parse is not Fulcio's
        raw = extension.value
        return _der_utf8(raw) if der else raw.decode("utf-8", "replace")
    return ""


def _der_utf8(raw: bytes) -> str:
    """The text of a DER UTF8String (tag 0x0C, short or long length); "" if it is not one."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return ""
    length, offset = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(raw[2:2 + count], "big"), 2 + count
    return raw[offset:offset + length].decode("utf-8", "replace")
