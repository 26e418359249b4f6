"""Keyless signing end to end: a CI job with an OIDC token and no key anywhere signs with one pyko
command, against the suite's private Sigstore (sigstore_services.py: an OIDC issuer, Fulcio and
Rekor speaking the real protocols on loopback) and the real registry; real cosign v3 verifies by
the job's identity. The double is first shown faithful: sigstore-python's own CLI signs against it
and cosign v3 accepts what it made."""
import json
import os
import subprocess

import pytest

from oci_tools import REPO, assert_clean_error, pyko
from sigstore_services import GITHUB, SigstoreServices

COSIGN3 = os.path.join(REPO, ".ci", "bin", "v3", "cosign")
OTHER = "https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main"


@pytest.fixture(scope="module")
def sigstore(tmp_path_factory):
    services = SigstoreServices()
    services.trust, services.root = services.write_files(str(tmp_path_factory.mktemp("private-sigstore")))
    yield services
    services.close()


@pytest.fixture
def ci_env(session_env, sigstore):
    """A GitHub Actions job with `permissions: id-token: write`: the token is fetched by whoever signs."""
    return {**session_env, "GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": sigstore.request_token,
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{sigstore.oidc.url}/github-token?api-version=2.0"}


def _cosign(*args):
    if not os.access(COSIGN3, os.X_OK):
        pytest.skip("no cosign v3 (.ci/install-deps builds it)")
    return subprocess.run([COSIGN3, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": "/tmp"})


def cosign_verify(sigstore, reference, identity=None, command="verify", *extra):
    return _cosign(command, *extra, "--trusted-root", sigstore.root, "--certificate-identity",
                   identity or sigstore.identity_of(), "--certificate-oidc-issuer", GITHUB,
                   "--allow-insecure-registry", reference)


def test_the_private_sigstore_is_faithful_sigstore_python_signs_and_cosign_verifies(sigstore, tmp_path):
    artifact = tmp_path / "artifact.txt"
    artifact.write_text("hello\n")
    signed = subprocess.run(["sigstore", "--trust-config", sigstore.trust, "sign", "--identity-token",
                             sigstore.github_token(), "--bundle", str(tmp_path / "a.sigstore.json"), str(artifact)],
                            capture_output=True, text=True, timeout=120)
    assert signed.returncode == 0, signed.stderr
    ok = _cosign("verify-blob", "--bundle", str(tmp_path / "a.sigstore.json"), "--trusted-root", sigstore.root,
                 "--certificate-identity", sigstore.identity_of(), "--certificate-oidc-issuer", GITHUB, str(artifact))
    assert ok.returncode == 0, ok.stderr
    other = _cosign("verify-blob", "--bundle", str(tmp_path / "a.sigstore.json"), "--trusted-root", sigstore.root,
                    "--certificate-identity", OTHER, "--certificate-oidc-issuer", GITHUB, str(artifact))
    assert other.returncode != 0
    assert ("GET", "/jwks") in sigstore.oidc.requests   # Fulcio checked the token against the issuer's keys
    assert "csr" in sigstore.request_kinds


def test_cosign_v3_signs_against_the_private_sigstore_and_pyko_verifies_it(registry, hello_src, session_env,
                                                                             sigstore, tmp_path):
    built = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/kl-by-cosign",
                 env=session_env)
    assert built.returncode == 0, built.stderr
    config = tmp_path / "signing_config.json"
    config.write_text(json.dumps(sigstore.signing_config()))
    signed = _cosign("sign", "-y", "--identity-token", sigstore.github_token(), "--signing-config", str(config),
                     "--trusted-root", sigstore.root, "--allow-insecure-registry", built.stdout.strip())
    assert signed.returncode == 0, signed.stderr
    assert "proof" in sigstore.request_kinds   # cosign's public key with a proof of possession
    ok = pyko("verify", "--trusted-root", sigstore.root, "--certificate-identity", sigstore.identity_of(),
              "--certificate-oidc-issuer", GITHUB, built.stdout.strip(), env=session_env)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("form", ["legacy", "bundle"])
def test_a_ci_job_signs_keylessly_and_cosign_v3_verifies_by_its_identity(registry, hello_src, ci_env, sigstore,
                                                                          form, tmp_path):
    proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--repo", f"{registry.host}/kl-{form}",
                "--sign-keyless", "--trust-config", sigstore.trust, "--signature-format", form, "--sign-recursive",
                "--json", "--image-refs", str(tmp_path / "refs"), "--image-refs-attachments", env=ci_env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    reference = result["reference"]
    assert result["signedBy"] == f"keyless: {sigstore.identity_of()} (issuer {GITHUB})"
    assert f"as keyless: {sigstore.identity_of()} (issuer {GITHUB})" in proc.stderr
    assert len(result["signatures"]) == 3 and len(result["attestations"]) >= 3
    refs = (tmp_path / "refs").read_text().split()
    assert all(sig in refs for sig in result["signatures"])
    ok = cosign_verify(sigstore, reference)
    assert ok.returncode == 0, ok.stderr
    for platform in result["platforms"]:   # --sign-recursive: each platform's manifest too
        one = cosign_verify(sigstore, f"{result['name']}@{platform['digest']}")
        assert one.returncode == 0, one.stderr
    refused = cosign_verify(sigstore, reference, OTHER)
    assert refused.returncode != 0 and "identit" in refused.stderr.lower()   # refused for its identity
    for kind in ("spdxjson", "slsaprovenance1"):
        attested = cosign_verify(sigstore, reference, None, "verify-attestation", "--type", kind)
        assert attested.returncode == 0, attested.stderr
    mine = pyko("verify", "--trusted-root", sigstore.root, "--certificate-identity", sigstore.identity_of(),
                "--certificate-oidc-issuer", GITHUB, reference, env=ci_env)
    assert mine.returncode == 0, mine.stderr
    not_mine = pyko("verify", "--trusted-root", sigstore.root, "--certificate-identity", OTHER,
                    "--certificate-oidc-issuer", GITHUB, reference, env=ci_env)
    assert not_mine.returncode != 0


def test_the_token_appears_nowhere(registry, hello_src, session_env, sigstore, tmp_path):
    token = sigstore.github_token()
    layout = tmp_path / "layout"
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/kl-leak",
                "--oci-layout", str(layout), "--sign-keyless", "--identity-token", token, "--trust-config",
                sigstore.trust, "-v", env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert token not in proc.stdout and token not in proc.stderr
    needle = token.encode()
    for top in (str(layout), registry.directory, session_env["PYKO_CACHE_DIR"]):
        for folder, _, names in os.walk(top):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        assert needle not in f.read(), f"the token is in {path}"
    # The signature in the layout verifies with the same identity (the identity of the token given).
    name = f"{registry.host}/kl-leak/hello-go"
    ok = pyko("verify", "--oci-layout", str(layout), "--trusted-root", sigstore.root, "--certificate-identity",
              sigstore.identity_of(), "--certificate-oidc-issuer", GITHUB, f"{name}:latest", env=session_env)
    assert ok.returncode == 0, ok.stderr


def test_index_create_and_rebase_sign_keylessly_through_the_same_path(registry, hello_src, ci_env, sigstore):
    built = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/kl-fan",
                 "--push-by-digest", env=ci_env)
    assert built.returncode == 0, built.stderr
    index = pyko("index", "create", f"{registry.host}/kl-fan/merged:v1", built.stdout.strip(), "--sign-keyless",
                 "--trust-config", sigstore.trust, "--signature-format", "bundle", "--recursive", env=ci_env)
    assert index.returncode == 0, index.stderr
    assert "signed 2 manifest(s)" in index.stderr and sigstore.identity_of() in index.stderr
    assert cosign_verify(sigstore, index.stdout.strip()).returncode == 0
    base = pyko("base", "--repo", f"{registry.host}/kl-base", "--platform", "linux/amd64", env=ci_env)
    assert base.returncode == 0, base.stderr
    rebased = pyko("rebase", f"{registry.host}/kl-fan/merged:v1", "--base", base.stdout.strip(), "-t", "rebased",
                   "--old-base", "pyko://static", "--sign-keyless", "--trust-config", sigstore.trust, env=ci_env)
    assert rebased.returncode == 0, rebased.stderr
    ok = cosign_verify(sigstore, rebased.stdout.strip())
    assert ok.returncode == 0, ok.stderr


def test_a_base_policy_accepts_a_base_pyko_signed_keylessly(registry, hello_src, ci_env, sigstore, session_env):
    base = pyko("base", "--repo", f"{registry.host}/kl-signed-base", "--platform", "linux/amd64", env=ci_env)
    assert base.returncode == 0, base.stderr
    signed = pyko("sign", base.stdout.strip(), "--trust-config", sigstore.trust, env=ci_env)
    assert signed.returncode == 0, signed.stderr
    policy = ("--trusted-root", sigstore.root, "--base-certificate-oidc-issuer", GITHUB)
    ok = pyko("build", hello_src, "--base", base.stdout.strip(), "--repo", f"{registry.host}/kl-on-signed", *policy,
              "--base-certificate-identity", sigstore.identity_of(), env=session_env)
    assert ok.returncode == 0, ok.stderr
    assert "verified: signed by" in ok.stderr
    refused = pyko("build", hello_src, "--base", base.stdout.strip(), "--repo", f"{registry.host}/kl-on-signed",
                   *policy, "--base-certificate-identity", OTHER, env=session_env)
    assert refused.returncode != 0


def test_pyko_attest_signs_a_predicate_keylessly(registry, c_binaries, ci_env, sigstore, tmp_path):
    image = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app", "--repo",
                 f"{registry.host}/kl-attest", "--bare", "--sbom=none", "-q", env=ci_env)
    assert image.returncode == 0, image.stderr
    predicate = tmp_path / "vuln.json"
    predicate.write_text(json.dumps({"scanner": {"uri": "pkg:github/aquasecurity/trivy", "result": []}}))
    proc = pyko("attest", image.stdout.strip(), "--predicate", str(predicate), "--type", "vuln", "--trust-config",
                sigstore.trust, env=ci_env)
    assert proc.returncode == 0, proc.stderr
    ok = cosign_verify(sigstore, image.stdout.strip(), None, "verify-attestation", "--type", "vuln")
    assert ok.returncode == 0, ok.stderr


def test_no_token_is_one_line_and_nothing_is_built(registry, hello_src, session_env, sigstore):
    proc = pyko("build", hello_src, "--repo", f"{registry.host}/kl-none", "--sign-keyless", "--trust-config",
                sigstore.trust, env=session_env)
    assert_clean_error(proc, "keyless signing needs an OIDC identity token")
    assert proc.returncode == 2
    assert "id-token: write" in proc.stderr and "building" not in proc.stderr


def test_an_expired_token_is_one_line(registry, hello_src, session_env, sigstore):
    import time

    token = sigstore.github_token(issued=int(time.time()) - 3600)
    proc = pyko("build", hello_src, "--repo", f"{registry.host}/kl-expired", "--sign-keyless", "--identity-token",
                token, "--trust-config", sigstore.trust, env=session_env)
    assert_clean_error(proc, "has expired")
    assert proc.returncode == 2
    assert token not in proc.stderr


def test_fulcio_refusing_stops_before_anything_is_pushed(registry, hello_src, ci_env, sigstore):
    sigstore.fulcio_refuses = 403
    try:
        proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/kl-refused",
                    "--sign-keyless", "--trust-config", sigstore.trust, env=ci_env)
    finally:
        sigstore.fulcio_refuses = 0
    assert_clean_error(proc, "Fulcio did not issue a signing certificate")
    assert proc.returncode == 1
    assert "HTTP 403" in proc.stderr and "pushed" not in proc.stderr
    listed = subprocess.run(["skopeo", "list-tags", "--tls-verify=false",
                             f"docker://{registry.host}/kl-refused/hello-go"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode != 0   # the repository was never created


def test_rekor_down_says_what_is_pushed_unsigned_and_pyko_sign_finishes_it(registry, hello_src, ci_env, sigstore):
    sigstore.rekor_down = True
    try:
        proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/kl-rekor",
                    "--sign-keyless", "--trust-config", sigstore.trust, "--no-attest", env=ci_env)
    finally:
        sigstore.rekor_down = False
    assert proc.returncode == 1 and proc.stdout == ""
    assert "is written but not signed: Rekor did not log the signature: HTTP 503" in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("pyko: error:") and "Traceback" not in proc.stderr
    command = line.split("`")[1].split()
    assert command[:2] == ["pyko", "sign"]
    again = pyko(*command[1:], "--trust-config", sigstore.trust, env=ci_env)
    assert again.returncode == 0, again.stderr
    reference = command[-1]
    ok = cosign_verify(sigstore, reference)
    assert ok.returncode == 0, ok.stderr
