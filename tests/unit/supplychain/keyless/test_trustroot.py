"""supplychain/keyless/trustroot.py: a Sigstore trusted root read from a file, each entry checked,
validity windows kept; the public-good root loads offline from the sigstore package."""
import base64
import datetime
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pyko.errors import MalformedInput
from pyko.supplychain.keyless.trustroot import MEDIA_TYPE, TrustedRoot, Window, load_trusted_root

UTC = datetime.timezone.utc


def _key_entry(start, end=None):
    der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    valid = {"start": start, **({"end": end} if end else {})}
    return {"baseUrl": "https://log.example", "publicKey": {"rawBytes": base64.b64encode(der).decode(),
                                                             "validFor": valid}}


def test_logs_are_keyed_by_the_sha256_of_their_key_with_windows():
    doc = {"mediaType": MEDIA_TYPE + "+json;version=0.1", "tlogs": [_key_entry("2020-01-01T00:00:00Z",
                                                                                 "2021-01-01T00:00:00Z")],
           "ctlogs": [_key_entry("2022-01-01T00:00:00Z")]}
    root = TrustedRoot.from_json(json.dumps(doc).encode(), "root.json")
    [tlog] = root.tlogs.values()
    assert tlog.window.holds(datetime.datetime(2020, 6, 1, tzinfo=UTC))
    assert not tlog.window.holds(datetime.datetime(2021, 6, 1, tzinfo=UTC))
    [ctlog] = root.ctlogs.values()
    assert ctlog.window.holds(datetime.datetime(2099, 1, 1, tzinfo=UTC))  # no end: open


@pytest.mark.parametrize("data, says", [
    (b"{not json", "is not JSON"),
    (b'{"mediaType": "application/json"}', "is not a Sigstore trusted root"),
    (json.dumps({"mediaType": MEDIA_TYPE, "tlogs": [{"publicKey": {"rawBytes": "!!"}}]}).encode(),
     "has a malformed entry"),
    (json.dumps({"mediaType": MEDIA_TYPE, "certificateAuthorities": [{"certChain": {"certificates": []}}]}).encode(),
     "has a malformed entry"),
])
def test_a_bad_root_is_refused_naming_the_file(data, says):
    with pytest.raises(MalformedInput, match=says):
        TrustedRoot.from_json(data, "root.json")


def test_an_open_window_holds_always():
    assert Window(None, None).holds(datetime.datetime(1970, 1, 1, tzinfo=UTC))


def test_the_public_good_root_offline():
    root = load_trusted_root("", offline=True)
    assert root.authorities and root.tlogs and root.ctlogs


def test_a_refresh_that_cannot_run_is_said_with_its_reason(monkeypatch, tmp_path):
    """The TUF repository is a closed port on loopback here: the shipped root is used, and why is said."""
    import socket

    from pyko.supplychain.keyless import trustroot

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(trustroot, "PUBLIC_GOOD_TUF", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(trustroot, "_cached", {})
    root = trustroot.load_trusted_root("", offline=False, cache_dir=str(tmp_path))
    assert root.authorities and root.note.startswith("Sigstore's trusted root could not be refreshed through TUF (")
    assert "using the copy shipped with sigstore" in root.note


def test_the_same_bytes_make_sigstore_pythons_trusted_root(tmp_path):
    from sigstore.models import TrustedRoot as SigstoreTrustedRoot

    root = load_trusted_root("", offline=True)
    assert isinstance(root.for_sigstore(), SigstoreTrustedRoot) and root.note == ""
