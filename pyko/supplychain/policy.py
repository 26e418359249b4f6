"""Who a base image must be signed by, checked before anything compiles.

A policy is a public key (cosign.pub) or a keyless identity: the certificate's
identity (exact or a regular expression) and its OIDC issuer (likewise), checked
against a trusted root (Sigstore's public-good one by default). Presets name the
identities of well-known publishers, so `preset = "chainguard"` is all it takes.

Where a build's policy comes from, most specific first: the command line
(--base-key, --base-certificate-identity…, --base-policy PRESET), the config's
[basePolicies] entry for the base (by its repository, or by a baseImageOverrides
key or build id), the config's basePolicy default. pyko://static is made on this
machine and never verified.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from ..errors import UsageError

#: Chainguard signs its public images from GitHub Actions workflows of chainguard-images. Patterns
#: are searched for, as cosign does (identity.py): this one is anchored at both ends, so an identity
#: that merely contains a Chainguard workflow's URL does not match.
PRESETS = {
    "chainguard": {
        "certificateIdentityRegexp": r"^https://github\.com/chainguard-images/[^/]+/\.github/workflows/[^@]+@refs/heads/main$",
        "certificateOidcIssuer": "https://token.actions.githubusercontent.com",
    },
}
KEYS = ("preset", "key", "certificateIdentity", "certificateIdentityRegexp", "certificateOidcIssuer",
        "certificateOidcIssuerRegexp", "trustedRoot")


@dataclass(frozen=True)
class BasePolicy:
    key: str = ""                   # a public key file, or "" for keyless
    identity: str = ""
    identity_regexp: str = ""
    issuer: str = ""
    issuer_regexp: str = ""
    trusted_root: str = ""          # "" : Sigstore's public-good root
    preset: str = ""

    @property
    def keyless(self) -> bool:
        return not self.key

    def describe(self) -> str:
        if self.key:
            return f"signed with {self.key}"
        who = self.identity or f"/{self.identity_regexp}/"
        return f"signed by {who} via {self.issuer or '/' + self.issuer_regexp + '/'}"


def policy_from(table: Mapping[str, str], fail: Callable[[str, str], None],
                relative: Callable[[str], str]) -> BasePolicy:
    """A policy from a config table (or the command line's flags, in the same key names)."""
    for key in table:
        if key not in KEYS:
            fail(key, f"unknown key {key!r} in a base policy (known keys: {', '.join(KEYS)})")
    merged = dict(table)
    preset = merged.get("preset", "")
    if preset:
        if preset not in PRESETS:
            fail("preset", f"unknown preset {preset!r}: pyko knows {', '.join(sorted(PRESETS))}")
        merged = {**PRESETS[preset], **{k: v for k, v in merged.items() if k != "preset"}}
    policy = BasePolicy(
        key=relative(merged["key"]) if merged.get("key") else "",
        identity=merged.get("certificateIdentity", ""), identity_regexp=merged.get("certificateIdentityRegexp", ""),
        issuer=merged.get("certificateOidcIssuer", ""), issuer_regexp=merged.get("certificateOidcIssuerRegexp", ""),
        trusted_root=relative(merged["trustedRoot"]) if merged.get("trustedRoot") else "", preset=preset)
    check(policy, fail)
    return policy


def check(policy: BasePolicy, fail: Callable[[str, str], None]) -> None:
    """One error for each combination that cannot work."""
    keyless = policy.identity or policy.identity_regexp or policy.issuer or policy.issuer_regexp
    if policy.key and keyless:
        fail("key", "a base policy is a key or a keyless identity, not both")
    if not policy.key:
        if bool(policy.identity) == bool(policy.identity_regexp):
            fail("certificateIdentity", "a keyless base policy needs exactly one of certificateIdentity and "
                                        "certificateIdentityRegexp")
        if bool(policy.issuer) == bool(policy.issuer_regexp):
            fail("certificateOidcIssuer", "a keyless base policy needs exactly one of certificateOidcIssuer and "
                                          "certificateOidcIssuerRegexp")
    for name, pattern in (("certificateIdentityRegexp", policy.identity_regexp),
                          ("certificateOidcIssuerRegexp", policy.issuer_regexp)):
        if pattern:
            try:
                re.compile(pattern)
            except re.error as err:
                fail(name, f"{name} is not a regular expression: {err}")


def _usage(key: str, problem: str) -> None:
    raise UsageError(problem)


def from_flags(values: Mapping[str, str]) -> Optional[BasePolicy]:
    """The command line's base policy, or None when it gave none."""
    given = {k: v for k, v in values.items() if v}
    if not given or set(given) == {"trustedRoot"}:
        return None
    return policy_from(given, _usage, lambda path: path)
