"""Keyless verification against a private Sigstore made by the suite (fake_sigstore.py), on the real
registry: real cosign v3 and pyko agree on every vector, good and bad, in both layouts; a build on a
signed base checks it before compiling."""
import datetime
import json
import os
import subprocess

import pytest

from fake_sigstore import IDENTITY, ISSUER, FakeSigstore, dsse_bundle, legacy_layer, new_signer, statement_for
from oci_tools import REPO, assert_clean_error, pyko, skopeo_raw

COSIGN3 = os.path.join(REPO, ".ci", "bin", "v3", "cosign")


@pytest.fixture(scope="module")
def sigstore(tmp_path_factory):
    fake = FakeSigstore()
    root = tmp_path_factory.mktemp("sigstore") / "trusted_root.json"
    root.write_text(json.dumps(fake.trusted_root()))
    fake.root_file = str(root)
    return fake


def _image(registry, c_binaries, session_env, repo):
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app", "--repo",
                f"{registry.host}/{repo}", "--bare", "--sbom=none", "-q", env=session_env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _store(reference):
    from pyko.transport.attachment_stores import RegistryAttachments
    from pyko.transport.registry.hosts import Registries
    from pyko.transport.registry.http import TransportOptions

    host, repository = reference.split("@")[0].split("/", 1)
    return RegistryAttachments(Registries(TransportOptions())(host), repository)


def sign_legacy(sigstore, reference, signer, **kwargs):
    from pyko.supplychain import cosign

    name, digest = reference.split("@")
    payload, annotations = legacy_layer(sigstore, signer, cosign.payload(name, digest), **kwargs)
    manifest, blobs = cosign.artifact_manifest([cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload, annotations)])
    _store(reference).put(cosign.tag_for(digest, "sig"), manifest, blobs)


def sign_bundle(sigstore, reference, signer, about=None, **kwargs):
    from pyko.image import Descriptor
    from pyko.image.documents import media_type_of
    from pyko.supplychain import bundles
    from pyko.transport import referrers

    name, digest = reference.split("@")
    store = _store(reference)
    raw = store.manifest_bytes(digest)
    subject = Descriptor(media_type_of(raw, "image"), digest, len(raw))
    bundle = dsse_bundle(sigstore, signer, statement_for(name, about or digest), **kwargs)
    manifest, blobs = bundles.bundle_referrer(subject, bundle, bundles.SIGN_PREDICATE, "2023-11-14T22:13:20Z")
    referrers.attach(store, subject, manifest, blobs)


def cosign_verify(sigstore, reference, identity=IDENTITY, issuer=ISSUER):
    if not os.access(COSIGN3, os.X_OK):
        pytest.skip("no cosign v3 (.ci/install-deps builds it)")
    return subprocess.run([COSIGN3, "verify", "--trusted-root", sigstore.root_file, "--certificate-identity", identity,
                           "--certificate-oidc-issuer", issuer, "--allow-insecure-registry", reference],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": "/tmp"})


def pyko_verify(sigstore, reference, session_env, *policy):
    args = policy or ("--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER)
    return pyko("verify", "--trusted-root", sigstore.root_file, *args, reference, env=session_env)


@pytest.mark.parametrize("layout", ["legacy", "bundle"])
def test_good_signatures_pass_with_cosign_and_pyko(registry, c_binaries, session_env, sigstore, layout):
    reference = _image(registry, c_binaries, session_env, f"kl-good-{layout}")
    signer = new_signer(sigstore, IDENTITY, ISSUER)
    (sign_legacy if layout == "legacy" else sign_bundle)(sigstore, reference, signer)
    theirs = cosign_verify(sigstore, reference)
    assert theirs.returncode == 0, theirs.stderr
    ours = pyko_verify(sigstore, reference, session_env)
    assert ours.returncode == 0, ours.stderr
    assert "the certificate chain, SCT, SET, identity and issuer" in ours.stderr
    regexp = pyko_verify(sigstore, reference, session_env, "--certificate-identity-regexp",
                         r"https://github\.com/acme/.*", "--certificate-oidc-issuer-regexp", r"https://token\..*")
    assert regexp.returncode == 0, regexp.stderr
    for args, check in ((("--certificate-identity", IDENTITY + "x", "--certificate-oidc-issuer", ISSUER), "identity"),
                        (("--certificate-identity", IDENTITY, "--certificate-oidc-issuer", "https://other"), "issuer"),
                        (("--certificate-identity-regexp", "^nope$", "--certificate-oidc-issuer", ISSUER),
                         "identity")):
        assert_clean_error(pyko_verify(sigstore, reference, session_env, *args), f"{check}: ")
        assert cosign_verify(sigstore, reference, args[1], args[3]).returncode != 0


def _bad_vectors(sigstore):
    other = FakeSigstore()
    later = int((sigstore.now + datetime.timedelta(hours=1)).timestamp())
    return {
        "untrusted CA": ("certificate chain", {"ca_key": other.intermediate_key, "ca_cert": other.intermediate}, {}),
        "expired at the integrated time": ("certificate", {}, {"integrated": later}),
        "bad SET": ("SET", {}, {"rekor_key": other.rekor_key}),
        "bad SCT": ("SCT", {"sct_key": other.ct_key}, {}),
    }


@pytest.mark.parametrize("case", ["untrusted CA", "expired at the integrated time", "bad SET", "bad SCT"])
def test_each_bad_legacy_vector_is_refused_by_both_naming_the_check(registry, c_binaries, session_env, sigstore,
                                                                    case):
    check, issue, log = _bad_vectors(sigstore)[case]
    reference = _image(registry, c_binaries, session_env, f"kl-{case.split()[-1].lower()}-{len(case)}")
    signer = new_signer(sigstore, IDENTITY, ISSUER, **issue)
    sign_legacy(sigstore, reference, signer, **log)
    assert cosign_verify(sigstore, reference).returncode != 0
    assert_clean_error(pyko_verify(sigstore, reference, session_env), f"{check}")


def test_a_signature_for_another_digest_is_refused(registry, c_binaries, session_env, sigstore):
    reference = _image(registry, c_binaries, session_env, "kl-other-digest")
    signer = new_signer(sigstore, IDENTITY, ISSUER)
    sign_bundle(sigstore, reference, signer, about="sha256:" + "0" * 64)
    assert cosign_verify(sigstore, reference).returncode != 0
    assert_clean_error(pyko_verify(sigstore, reference, session_env), "digest claim", "another image")


@pytest.fixture(scope="module")
def signed_base(registry, session_env, sigstore):
    proc = pyko("base", "--repo", f"{registry.host}/signed-static", "--platform", "linux/amd64", env=session_env)
    assert proc.returncode == 0, proc.stderr
    reference = proc.stdout.strip()
    sign_legacy(sigstore, reference, new_signer(sigstore, IDENTITY, ISSUER))
    return reference


def test_a_build_checks_its_base_before_compiling(registry, hello_src, session_env, sigstore, signed_base,
                                                   tmp_path):
    tag = signed_base.split("@")[0] + ":latest"
    ok = pyko("build", hello_src, "--base", tag, "--repo", f"{registry.host}/on-signed", "--trusted-root",
              sigstore.root_file, "--base-certificate-identity", IDENTITY, "--base-certificate-oidc-issuer", ISSUER,
              env=session_env)
    assert ok.returncode == 0, ok.stderr
    assert "verified: signed by" in ok.stderr
    image = skopeo_raw(f"docker://{ok.stdout.strip()}")
    assert image["annotations"]["org.opencontainers.image.base.digest"] == signed_base.split("@")[1]
    # From the config, as the default policy: another identity, refused before anything compiles.
    (tmp_path / ".pyko.toml").write_text(f'[basePolicy]\ncertificateIdentityRegexp = "https://github.com/other/.*"\n'
                                         f'certificateOidcIssuer = "{ISSUER}"\ntrustedRoot = "{sigstore.root_file}"\n')
    refused = pyko("build", hello_src, "--base", tag, "--repo", f"{registry.host}/on-signed", cwd=str(tmp_path),
                   env=session_env)
    assert_clean_error(refused, f"the base image {tag}", "identity:")
    assert "building" not in refused.stderr
    # The chainguard preset is the same mechanism: this base is not Chainguard's, so it is refused too.
    preset = pyko("build", hello_src, "--base", tag, "--base-policy", "chainguard", "--trusted-root",
                  sigstore.root_file, env=session_env)
    assert_clean_error(preset, "identity:")
    unsigned = pyko("base", "--repo", f"{registry.host}/unsigned-static", "--platform", "linux/amd64",
                    env=session_env)
    assert unsigned.returncode == 0
    none = pyko("build", hello_src, "--base", f"{registry.host}/unsigned-static:latest", "--base-policy", "chainguard",
                "--trusted-root", sigstore.root_file, env=session_env)
    assert_clean_error(none, "no signatures found")
