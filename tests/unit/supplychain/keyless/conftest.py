import json

import pytest

from pyko.supplychain.keyless import Identity, KeylessPolicy, TrustedRoot

from fake_sigstore import IDENTITY, ISSUER, FakeSigstore


@pytest.fixture(scope="module")
def fake():
    return FakeSigstore()


@pytest.fixture
def policy(fake, tmp_path):
    """A policy for IDENTITY/ISSUER on `fake`'s root (window ends as keywords); also writes the root file."""
    def make(identity=Identity(IDENTITY, "", ISSUER, ""), **root):
        path = tmp_path / "trusted_root.json"
        path.write_text(json.dumps(fake.trusted_root(**root)))
        return KeylessPolicy(identity, TrustedRoot.from_file(str(path)))
    return make
