"""keyless/signing.py against the suite's private Sigstore (sigstore_services.py: an OIDC issuer,
Fulcio and Rekor on loopback): where the token comes from, what each failure says (never the
token), and that what it signs verifies with pyko's own verifiers, which decide as cosign does."""
import json
import time

import pytest

from pyko.errors import SigningError, UsageError
from pyko.supplychain import cosign, dsse
from pyko.supplychain.keyless import Identity, KeylessPolicy, TrustedRoot, verify_bundle, verify_legacy
from pyko.supplychain.keyless import signing as keyless_signing
from pyko.supplychain.keyless.signing import NO_TOKEN, open_keyless
from pyko.supplychain.signers import SignerRequest

from fake_sigstore import ISSUER
from sigstore_services import SigstoreServices

DIGEST = "sha256:" + "cd" * 32
AMBIENT = ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITLAB_CI",
           "BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME", "SIGSTORE_ID_TOKEN")


@pytest.fixture(scope="module")
def services():
    running = SigstoreServices()
    yield running
    running.close()


@pytest.fixture
def files(services, tmp_path):
    trust, root = services.write_files(str(tmp_path))
    return trust, root


@pytest.fixture(autouse=True)
def no_ambient_credential(monkeypatch):
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)


def _policy(services, root, identity=None):
    return KeylessPolicy(Identity(identity or services.identity_of(), "", ISSUER, ""), TrustedRoot.from_file(root))


def _signer(files, token, legacy=True, environ=None):
    return open_keyless(SignerRequest(keyless=True, identity_token=token, trust_config=files[0], legacy=legacy),
                        environ or {}, offline=True)


def test_a_legacy_signature_carries_cosigns_annotations_and_verifies_by_identity(services, files):
    signer = _signer(files, services.github_token())
    payload = cosign.payload("reg.io/app", DIGEST)
    signature, annotations = signer.sign_payload(payload)
    layer = {cosign.SIGNATURE_ANNOTATION: signature, **annotations}
    assert verify_legacy(payload, layer, DIGEST, _policy(services, files[1]), "signature 1") == payload
    assert "issuer https://token.actions.githubusercontent.com" in signer.description
    assert services.identity_of() in signer.description
    with pytest.raises(Exception, match="identity"):
        verify_legacy(payload, layer, DIGEST, _policy(services, files[1], "https://github.com/evil/x"), "sig")


def test_a_bundle_verifies_with_sigstore_python_by_identity(services, files):
    signer = _signer(files, services.github_token(), legacy=False)
    statement = dsse.statement([("reg.io/app", DIGEST)], "https://sigstore.dev/cosign/sign/v1", {})
    bundle = signer.sign_bundle(statement)
    found, checks = verify_bundle(bundle, DIGEST, _policy(services, files[1]), "bundle")
    assert found.raw == statement and "sigstore-python" in checks


def test_one_certificate_serves_every_signature(services, files):
    signer = _signer(files, services.github_token())
    before = len(services.issued)
    for n in range(3):
        signer.sign_payload(cosign.payload("reg.io/app", "sha256:" + f"{n:02d}" * 32))
    assert len(services.issued) == before + 1


def test_the_token_comes_from_a_file_or_sigstore_id_token(services, files, tmp_path):
    path = tmp_path / "token"
    path.write_text(services.github_token() + "\n")
    assert "keyless" in _signer(files, str(path)).description
    assert "keyless" in _signer(files, "", environ={"SIGSTORE_ID_TOKEN": services.github_token()}).description


def test_github_actions_ambient_token_is_fetched_from_its_request_url(services, files, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{services.oidc.url}/github-token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", services.request_token)
    signer = _signer(files, "")
    signer.sign_payload(cosign.payload("reg.io/app", DIGEST))
    assert services.identity_of() in signer.description


def test_no_token_anywhere_is_one_usage_error_naming_where_one_comes_from(files):
    with pytest.raises(UsageError) as err:
        _signer(files, "")
    assert str(err.value) == NO_TOKEN and err.value.exit_code == 2
    assert "id-token: write" in str(err.value) and "SIGSTORE_ID_TOKEN" in str(err.value)


def test_an_expired_or_malformed_token_is_refused_without_showing_it(services, files):
    expired = services.github_token(issued=int(time.time()) - 3600, lifetime=600)
    with pytest.raises(UsageError, match="has expired") as err:
        _signer(files, expired)
    assert expired not in str(err.value)
    wrong_audience = services.github_token(audience="not-sigstore")
    with pytest.raises(UsageError, match="not an OIDC identity token for Sigstore") as err:
        _signer(files, wrong_audience)
    assert wrong_audience not in str(err.value)


def test_fulcio_refusing_is_one_signing_error_with_the_status_and_no_token(services, files):
    token = services.github_token()
    signer = _signer(files, token)
    services.fulcio_refuses = 403
    try:
        with pytest.raises(SigningError, match="Fulcio did not issue a signing certificate.*HTTP 403") as err:
            signer.prepare()
    finally:
        services.fulcio_refuses = 0
    assert token not in str(err.value)


def test_rekor_down_is_retried_then_one_signing_error(services, files, monkeypatch):
    monkeypatch.setattr(keyless_signing, "LOG_BACKOFF", 0.01)
    signer = _signer(files, services.github_token())
    signer.prepare()
    posts = len(services.rekor.requests)
    services.rekor_down = True
    try:
        with pytest.raises(SigningError, match="Rekor did not log the signature: HTTP 503"):
            signer.sign_payload(cosign.payload("reg.io/app", DIGEST))
    finally:
        services.rekor_down = False
    assert len(services.rekor.requests) - posts == keyless_signing.LOG_ATTEMPTS


def test_a_service_that_echoes_the_token_has_it_scrubbed(services, files):
    token = services.github_token()
    signer = _signer(files, token)
    services.fulcio_echoes_token = True
    try:
        with pytest.raises(SigningError, match="Fulcio did not issue") as err:
            signer.prepare()
    finally:
        services.fulcio_echoes_token = False
    assert token not in str(err.value) and "<the token>" in str(err.value)


def test_a_trust_config_that_is_not_one_is_a_usage_error(tmp_path, services):
    bad = tmp_path / "trust.json"
    bad.write_text(json.dumps({"mediaType": "something else"}))
    with pytest.raises(UsageError, match="is not a Sigstore client trust config"):
        open_keyless(SignerRequest(keyless=True, identity_token=services.github_token(), trust_config=str(bad)),
                     {}, offline=True)


def test_the_chain_annotation_names_the_cas_above_the_leaf(services, files):
    signer = _signer(files, services.github_token())
    _, annotations = signer.sign_payload(cosign.payload("reg.io/app", DIGEST))
    chain = annotations["dev.sigstore.cosign/chain"]
    assert chain.count("BEGIN CERTIFICATE") == 2
    rekor = json.loads(annotations["dev.sigstore.cosign/bundle"])
    assert set(rekor["Payload"]) == {"body", "integratedTime", "logIndex", "logID"}


class _Outlived:
    """A token that was good when read and has expired since (a long build)."""

    identity, issuer = "repo:acme/app:ref:refs/heads/main", ISSUER

    def in_validity_period(self):
        return False


def test_an_ambient_token_outlived_by_a_long_build_is_fetched_again(services, files):
    from sigstore.oidc import IdentityToken

    signer = _signer(files, services.github_token())
    signer._token, signer._redetect = _Outlived(), lambda: IdentityToken(services.github_token())
    signer.sign_payload(cosign.payload("reg.io/app", DIGEST))
    assert services.identity_of() in signer.description


def test_a_given_token_outlived_by_a_long_build_is_one_signing_error(services, files):
    signer = _signer(files, services.github_token())
    signer._token = _Outlived()
    with pytest.raises(SigningError, match="has expired; sign again with a fresh one"):
        signer.prepare()


def test_a_certificate_near_its_end_is_replaced_before_it_signs_again(services, files, monkeypatch):
    signer = _signer(files, services.github_token())
    signer.sign_payload(cosign.payload("reg.io/app", DIGEST))
    issued = len(services.issued)
    signer.sign_payload(cosign.payload("reg.io/app", "sha256:" + "ee" * 32))
    assert len(services.issued) == issued   # within its time: the same certificate
    monkeypatch.setattr(keyless_signing, "RENEW_AFTER", -1)
    signer.sign_payload(cosign.payload("reg.io/app", "sha256:" + "ef" * 32))
    assert len(services.issued) == issued + 1
