"""Attestations (SBOM and SLSA provenance) and cosign v3's formats, with the real cosign v2 and v3,
on distribution 2.8 (no referrers API) and on a registry with the OCI 1.1 referrers API."""
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from oci_tools import REPO, assert_clean_error, pyko, skopeo_raw
from registry_fixtures import start_referrers_registry

pytest.importorskip("nacl", reason="PyNaCl (pip install 'pyko-images[cosign]')")
EPOCH = "1700000000"
COSIGNS = {"v2": os.path.join(REPO, ".ci", "bin", "cosign"), "v3": os.path.join(REPO, ".ci", "bin", "v3", "cosign")}
SCHEMA = os.path.join(REPO, "tests", "helpers", "slsa_provenance_v1.schema.json")


def cosign(version):
    path = COSIGNS[version]
    if not os.access(path, os.X_OK):
        pytest.skip(f"no cosign {version} (.ci/install-deps builds it from the Go module proxy)")
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory, session_env):
    directory = tmp_path_factory.mktemp("keys")
    env = dict(session_env, COSIGN_PASSWORD="pw", HOME=str(directory), SOURCE_DATE_EPOCH=EPOCH)
    for prefix in ("cosign", "other"):
        assert pyko("generate-key-pair", "--output-key-prefix", str(directory / prefix), env=env).returncode == 0
    (directory / "empty-root.json").write_text(json.dumps({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [],
        "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}))
    return {"dir": directory, "key": str(directory / "cosign.key"), "pub": str(directory / "cosign.pub"),
            "other": str(directory / "other.pub"), "env": env, "root": str(directory / "empty-root.json")}


@pytest.fixture(scope="module")
def referrers_registry(tmp_path_factory):
    running = start_referrers_registry(str(tmp_path_factory.mktemp("refreg")))
    yield running
    running.stop()


def _build(hello_src, keys, repo, *extra, cache=None):
    env = dict(keys["env"], **({"PYKO_CACHE_DIR": cache} if cache else {}))
    proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--repo", repo, "--sign-key",
                keys["key"], *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "4 attestation(s)" not in proc.stderr and "6 attestation(s)" in proc.stderr  # index + 2 images, x2
    return proc.stdout.strip()


def _cosign(version, keys, *args, trusted_root=False):
    flags = ["--key", keys["pub"], "--insecure-ignore-tlog=true", "--allow-insecure-registry"]
    if trusted_root:
        flags.append(f"--trusted-root={keys['root']}")  # cosign v2 reads bundles only with one (any, for keys)
    return subprocess.run([cosign(version), *args[:-1], *flags, args[-1]], env=keys["env"], capture_output=True,
                          text=True, timeout=180)


@pytest.fixture(scope="module")
def legacy(registry, hello_src, keys):
    return _build(hello_src, keys, f"{registry.host}/att-legacy")


@pytest.mark.parametrize("version", ["v2", "v3"])
@pytest.mark.parametrize("form", ["legacy", "bundle"])
def test_cosign_accepts_pyko_signatures_and_attestations(registry, hello_src, keys, legacy, version, form):
    ref = legacy if form == "legacy" else _build(hello_src, keys, f"{registry.host}/att-{form}",
                                                 "--signature-format", form)
    root = form == "bundle" and version == "v2"
    verified = _cosign(version, keys, "verify", ref, trusted_root=root)
    assert verified.returncode == 0, verified.stderr
    for kind in ("spdxjson", "slsaprovenance1"):
        attested = _cosign(version, keys, "verify-attestation", "--type", kind, ref, trusted_root=root)
        assert attested.returncode == 0, attested.stderr
        payload = json.loads(attested.stdout.strip().splitlines()[0])["payload"]
        import base64
        statement = json.loads(base64.b64decode(payload))
        assert statement["subject"][0]["digest"]["sha256"] == ref.split(":")[-1]


def test_pyko_verifies_each_attestation_type_and_the_predicates_are_valid(legacy, keys, tmp_path, session_env):
    from jsonschema import Draft202012Validator, FormatChecker
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    sbom = pyko("verify-attestation", "--key", keys["pub"], "--type", "spdxjson", legacy, env=session_env)
    assert sbom.returncode == 0, sbom.stderr
    statement = json.loads(sbom.stdout.splitlines()[0])
    assert statement["predicateType"] == "https://spdx.dev/Document"
    predicate = tmp_path / "sbom.spdx.json"
    predicate.write_text(json.dumps(statement["predicate"]))
    assert validate_full_spdx_document(parse_file(str(predicate))) == []
    slsa = pyko("verify-attestation", "--key", keys["pub"], "--type", "slsaprovenance1", legacy, env=session_env)
    assert slsa.returncode == 0, slsa.stderr
    provenance = json.loads(slsa.stdout.splitlines()[0])
    Draft202012Validator(json.load(open(SCHEMA)), format_checker=FormatChecker()).validate(provenance)
    definition = provenance["predicate"]["buildDefinition"]
    assert definition["externalParameters"]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert definition["externalParameters"]["binaries"][0]["name"] == "hello-go"
    assert any(d.get("name") == "go" and d["annotations"]["version"].startswith("go1.")
               for d in definition["resolvedDependencies"])
    assert provenance["predicate"]["runDetails"]["builder"]["id"] == "urn:pyko:builder:local"
    assert provenance["predicate"]["runDetails"]["metadata"]["startedOn"] == "2023-11-14T22:13:20Z"


def test_attestations_are_reproducible(registry, hello_src, keys, tmp_path, session_env):
    """Two builds with one SOURCE_DATE_EPOCH and separate caches: the same statements, and (signatures
    being deterministic) the very same attestation manifests, so the second adds nothing."""
    repo = f"{registry.host}/att-twice"
    first = _build(hello_src, keys, repo, cache=str(tmp_path / "one"))
    tag = f"docker://{first.split('@')[0]}:sha256-{first.split(':')[-1]}.att"
    before = skopeo_raw(tag)
    statements = {kind: pyko("verify-attestation", "--key", keys["pub"], "--type", kind, first,
                             env=session_env).stdout for kind in ("spdxjson", "slsaprovenance1")}
    second = _build(hello_src, keys, repo, cache=str(tmp_path / "two"))
    assert second == first and skopeo_raw(tag) == before
    for kind, text in statements.items():
        again = pyko("verify-attestation", "--key", keys["pub"], "--type", kind, second, env=session_env)
        assert again.returncode == 0 and again.stdout == text and len(text.splitlines()) == 1


def test_refusals_tampered_other_key_wrong_subject_none(registry, hello_src, keys, legacy, tmp_path, session_env):
    other = pyko("verify-attestation", "--key", keys["other"], "--type", "spdxjson", legacy, env=session_env)
    assert_clean_error(other, "no valid https://spdx.dev/Document attestation", "no signature of the envelope verifies")
    none = pyko("verify-attestation", "--key", keys["pub"], "--type", "spdxjson",
                legacy.split("@")[0].replace("att-legacy", "att-none") + "@" + legacy.split("@")[1], env=session_env)
    assert none.returncode != 0
    # In a layout, where blobs are files: one altered envelope, and one moved to another image.
    layout = tmp_path / "layout"
    env = dict(keys["env"])
    for name in ("app", "other"):
        built = pyko("build", hello_src, "--platform", "linux/amd64", "--name", name, "--oci-layout", str(layout),
                     "--sign-key", keys["key"], "--image-label", f"n={name}", env=env)
        assert built.returncode == 0, built.stderr
    index = json.loads((layout / "index.json").read_text())
    named = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
    app, oth = named["app:latest"]["digest"], named["other:latest"]["digest"]
    # The other image's attestations, filed under app's tag: valid signatures over the wrong subject.
    mine, theirs = named[f"app:sha256-{app[7:]}.att"], named[f"other:sha256-{oth[7:]}.att"]
    mine.update(digest=theirs["digest"], size=theirs["size"])
    (layout / "index.json").write_text(json.dumps(index))
    moved = pyko("verify-attestation", "--key", keys["pub"], "--type", "spdxjson", "--oci-layout", str(layout),
                 "app:latest", env=session_env)
    assert_clean_error(moved, "its subject is not " + app)
    tampered = tmp_path / "tampered"
    shutil.copytree(layout, tampered)
    _tamper_envelopes(tampered, oth)
    bad = pyko("verify-attestation", "--key", keys["pub"], "--type", "spdxjson", "--oci-layout", str(tampered),
               "other:latest", env=session_env)
    assert_clean_error(bad, "no signature of the envelope verifies")


def _tamper_envelopes(layout, digest):
    """Change one byte of the statement inside every .att envelope, and re-point the manifest at them."""
    import base64
    import hashlib

    index = json.loads((layout / "index.json").read_text())
    ref = f"other:sha256-{digest.split(':')[1]}.att"
    entry = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == ref)
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / entry["digest"][7:]).read_bytes())
    for layer in manifest["layers"]:
        envelope = json.loads((blobs / layer["digest"][7:]).read_bytes())
        body = base64.b64decode(envelope["payload"]).replace(b"in-toto.io", b"in-toto.iO", 1)
        envelope["payload"] = base64.b64encode(body).decode()
        data = json.dumps(envelope).encode()
        (blobs / hashlib.sha256(data).hexdigest()).write_bytes(data)
        layer.update(digest="sha256:" + hashlib.sha256(data).hexdigest(), size=len(data))
    raw = json.dumps(manifest).encode()
    (blobs / hashlib.sha256(raw).hexdigest()).write_bytes(raw)
    entry.update(digest="sha256:" + hashlib.sha256(raw).hexdigest(), size=len(raw))
    (layout / "index.json").write_text(json.dumps(index))


def test_pyko_verifies_what_cosign_v3_makes_by_default(registry, hello_src, keys, session_env):
    ref = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/by-cosign", "-q",
               "--sbom=none", env=session_env).stdout.strip()
    signed = subprocess.run([cosign("v3"), "sign", "--key", keys["key"], "--use-signing-config=false",
                             "--tlog-upload=false", "-y", "--allow-insecure-registry", "-a", "team=payments", ref],
                            env=keys["env"], capture_output=True, text=True, timeout=180)
    assert signed.returncode == 0, signed.stderr
    predicate = keys["dir"] / "predicate.json"
    predicate.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "name": "by cosign"}))
    attested = subprocess.run([cosign("v3"), "attest", "--key", keys["key"], "--type", "spdxjson", "--predicate",
                               str(predicate), "--use-signing-config=false", "--tlog-upload=false", "-y",
                               "--allow-insecure-registry", ref], env=keys["env"], capture_output=True, text=True,
                              timeout=180)
    assert attested.returncode == 0, attested.stderr
    tags = skopeo_raw(f"docker://{ref.split('@')[0]}:{ref.split('@')[1].replace(':', '-')}")
    assert all(m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json" for m in tags["manifests"])
    ours = pyko("verify", "--key", keys["pub"], "-a", "team=payments", ref, env=session_env)
    assert ours.returncode == 0, ours.stderr
    assert "https://sigstore.dev/cosign/sign/v1" in ours.stdout
    sbom = pyko("verify-attestation", "--key", keys["pub"], "--type", "spdxjson", ref, env=session_env)
    assert sbom.returncode == 0, sbom.stderr
    assert json.loads(sbom.stdout.splitlines()[0])["predicate"]["name"] == "by cosign"
    wrong = pyko("verify", "--key", keys["other"], ref, env=session_env)
    assert_clean_error(wrong, "no valid signature")


def test_referrers_api_registry(referrers_registry, hello_src, keys, session_env):
    ref = _build(hello_src, keys, f"{referrers_registry.host}/api", "--signature-format", "bundle")
    name, digest = ref.split("@")
    repository = name.split("/", 1)[1]
    with urllib.request.urlopen(f"http://{referrers_registry.host}/v2/{repository}/referrers/{digest}") as resp:
        listed = json.load(resp)["manifests"]
    assert len(listed) == 4  # the signature, the SBOM and provenance bundles, the SBOM referrer
    assert _cosign("v3", keys, "verify", ref).returncode == 0
    for kind in ("spdxjson", "slsaprovenance1"):
        assert _cosign("v3", keys, "verify-attestation", "--type", kind, ref).returncode == 0
        ours = pyko("verify-attestation", "--key", keys["pub"], "--type", kind, ref, env=session_env)
        assert ours.returncode == 0, ours.stderr
