"""Keyless (Sigstore: Fulcio certificate + Rekor log) verification of cosign signatures, offline.

Both places cosign keeps them: a Sigstore bundle referrer (cosign v3's), which
sigstore-python's Verifier decides (bundle.py), and a legacy `sha256-<hex>.sig` layer
(the certificate, its chain and the Rekor bundle with its SET, as layer annotations),
which sigstore-python cannot read and pyko checks itself by sigstore-go's rules
(legacy.py, checks.py). Identity and issuer are matched as cosign matches them
(identity.py); the trusted root is trustroot.py's. Nothing here goes to the network
but the public-good root's TUF refresh.
"""
from __future__ import annotations

from .bundle import verify_bundle
from .identity import CheckFailed, Identity
from .legacy import LEGACY_CHECKS, KeylessPolicy, verify_legacy, verify_rekor_bundle
from .trustroot import TrustedRoot, load_trusted_root

__all__ = ["CheckFailed", "Identity", "KeylessPolicy", "LEGACY_CHECKS", "TrustedRoot", "load_trusted_root",
           "verify_bundle", "verify_legacy", "verify_rekor_bundle"]
