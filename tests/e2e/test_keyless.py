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


def cosign_verify(sigstore, reference, identity=IDENTITY, issuer=ISSUER, root_file=None, regexp=False):
    if not os.access(COSIGN3, os.X_OK):
        pytest.skip("no cosign v3 (.ci/install-deps builds it)")
    flag = "--certificate-identity-regexp" if regexp else "--certificate-identity"
    return subprocess.run([COSIGN3, "verify", "--trusted-root", root_file or sigstore.root_file, flag, identity,
                           "--certificate-oidc-issuer", issuer, "--allow-insecure-registry", reference],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": "/tmp"})


def pyko_verify(sigstore, reference, session_env, *policy, root_file=None):
    args = policy or ("--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER)
    return pyko("verify", "--trusted-root", root_file or sigstore.root_file, *args, reference, env=session_env)


@pytest.mark.parametrize("layout", ["legacy", "bundle"])
def test_good_signatures_pass_with_cosign_and_pyko(registry, c_binaries, session_env, sigstore, layout):
    reference = _image(registry, c_binaries, session_env, f"kl-good-{layout}")
    signer = new_signer(sigstore, IDENTITY, ISSUER)
    (sign_legacy if layout == "legacy" else sign_bundle)(sigstore, reference, signer)
    theirs = cosign_verify(sigstore, reference)
    assert theirs.returncode == 0, theirs.stderr
    ours = pyko_verify(sigstore, reference, session_env)
    assert ours.returncode == 0, ours.stderr
    if layout == "legacy":  # pyko's own checks: sigstore-python cannot read this layout
        assert "pyko: SET (the integrated time), certificate chain and validity at that time, SCT" in ours.stderr
    else:
        expected = ("sigstore-python: certificate chain, SCT, inclusion proof and checkpoint, SET (the integrated "
                    "time), identity and issuer, log entry, signature, pyko: the trusted root's validity windows")
        assert expected in ours.stderr
    regexp = pyko_verify(sigstore, reference, session_env, "--certificate-identity-regexp",
                         r"https://github\.com/acme/.*", "--certificate-oidc-issuer-regexp", r"https://token\..*")
    assert regexp.returncode == 0, regexp.stderr
    # The form cosign's documentation uses, which matches only as a search (cosign: Go's MatchString).
    search = r"^https://github\.com/acme/"
    assert cosign_verify(sigstore, reference, search, regexp=True).returncode == 0
    ours = pyko_verify(sigstore, reference, session_env, "--certificate-identity-regexp", search,
                       "--certificate-oidc-issuer", ISSUER)
    assert ours.returncode == 0, ours.stderr
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


HOUR = datetime.timedelta(hours=1)
#: Forged bundles, and what both verifiers must say: sigstore-python decides the first five (the unit
#: tests hand each to it directly); the window cases are sigstore-go's (cosign v3's) rule, which pyko
#: applies on top of sigstore-python's. (case: bundle options, trusted-root options, pyko's check)
FORGED_BUNDLES = {
    "no SET": ({"with_set": False}, {}, "bundle must contain an inclusion promise"),
    "no inclusion proof": ({"with_proof": False}, {}, "sigstore-python cannot read it"),
    "no checkpoint": ({"with_checkpoint": False}, {}, "entry must contain inclusion proof, with checkpoint"),
    "a proof for another tree": ({"proof_of_another_tree": True}, {}, "inclusion proof"),
    "expired at the integrated time": ({"integrated": "later"}, {}, "sigstore-python refused it"),
    "the log key's window ended": ({}, {"tlog_end": -HOUR}, "SET: "),
    "the Fulcio CA's window ended": ({}, {"ca_end": -HOUR}, "certificate chain: "),
    "the CT log's window ended": ({}, {"ct_end": -HOUR}, "SCT: "),
}


@pytest.mark.parametrize("case", sorted(FORGED_BUNDLES))
def test_each_forged_bundle_is_refused_by_cosign_v3_and_pyko(registry, c_binaries, session_env, sigstore, case,
                                                             tmp_path):
    options, root, says = FORGED_BUNDLES[case]
    if options.get("integrated") == "later":
        options = {"integrated": int((sigstore.now + HOUR).timestamp())}
    root_file = tmp_path / "trusted_root.json"
    root_file.write_text(json.dumps(sigstore.trusted_root(**{k: sigstore.stamp(v) for k, v in root.items()})))
    reference = _image(registry, c_binaries, session_env, f"kl-bundle-{abs(hash(case)) % 10**8}")
    sign_bundle(sigstore, reference, new_signer(sigstore, IDENTITY, ISSUER), **options)
    assert cosign_verify(sigstore, reference, root_file=str(root_file)).returncode != 0
    assert_clean_error(pyko_verify(sigstore, reference, session_env, root_file=str(root_file)), says)


def test_a_base_signed_with_a_bundle_without_a_set_builds_nothing(registry, hello_src, session_env, sigstore,
                                                                  tmp_path):
    proc = pyko("base", "--repo", f"{registry.host}/no-set-static", "--platform", "linux/amd64", env=session_env)
    assert proc.returncode == 0, proc.stderr
    reference = proc.stdout.strip()
    sign_bundle(sigstore, reference, new_signer(sigstore, IDENTITY, ISSUER), with_set=False)
    refused = pyko("build", hello_src, "--base", reference.split("@")[0] + ":latest", "--oci-layout",
                   str(tmp_path / "out"), "--trusted-root", sigstore.root_file, "--base-certificate-identity", IDENTITY,
                   "--base-certificate-oidc-issuer", ISSUER, env=session_env)
    assert_clean_error(refused, "is not signed by", "bundle must contain an inclusion promise")
    assert "building" not in refused.stderr and not (tmp_path / "out").exists()


def test_a_payload_cosign_would_read_another_way_is_refused_by_both(registry, c_binaries, session_env, sigstore):
    """Go's decoder takes the last of `critical`/`CRITICAL` (another digest here); pyko refuses both spellings."""
    from pyko.supplychain import cosign

    reference = _image(registry, c_binaries, session_env, "kl-case-twins")
    name, digest = reference.split("@")
    twins = cosign.payload(name, digest)[:-1] + (
        ',"CRITICAL":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"sha256:%s"},'
        '"type":"cosign container image signature"}}' % (name, "0" * 64)).encode()
    payload, annotations = legacy_layer(sigstore, new_signer(sigstore, IDENTITY, ISSUER), twins)
    manifest, blobs = cosign.artifact_manifest([cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload, annotations)])
    _store(reference).put(cosign.tag_for(digest, "sig"), manifest, blobs)
    assert cosign_verify(sigstore, reference).returncode != 0
    assert_clean_error(pyko_verify(sigstore, reference, session_env), "keys that differ only in case")


def test_a_bad_layer_does_not_hide_a_good_signature(registry, c_binaries, session_env, sigstore):
    """200 layers that cannot verify, then a good one: cosign v3 and pyko both find the good one."""
    from pyko.supplychain import cosign

    reference = _image(registry, c_binaries, session_env, "kl-many-layers")
    name, digest = reference.split("@")
    payload, annotations = legacy_layer(sigstore, new_signer(sigstore, IDENTITY, ISSUER), cosign.payload(name, digest))
    bad = cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload, {**annotations, cosign.SIGNATURE_ANNOTATION: "AAAA"})
    good = cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload, annotations)
    layers = [cosign.ArtifactLayer(cosign.SIMPLESIGNING, payload + b" " * n, bad.annotations) for n in range(200)]
    manifest, blobs = cosign.artifact_manifest(layers + [good])
    _store(reference).put(cosign.tag_for(digest, "sig"), manifest, blobs)
    theirs = cosign_verify(sigstore, reference)
    assert theirs.returncode == 0, theirs.stderr
    ours = pyko_verify(sigstore, reference, session_env)
    assert ours.returncode == 0, ours.stderr
    assert "signature 201" in ours.stderr
