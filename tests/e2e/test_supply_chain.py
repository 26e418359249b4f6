"""Signing, verification and SBOMs against the real registry; cosign itself where it is installed."""
import json
import os
import shutil
import subprocess

import pytest

from oci_tools import REPO, assert_clean_error, need, pyko, run

pytest.importorskip("nacl", reason="PyNaCl (pip install 'pyko-images[cosign]')")
PASSWORD = "key-pass-123"


def cosign_binary():
    """The real cosign: on PATH, or where .ci/install-deps builds it."""
    return shutil.which("cosign") or next(
        (p for p in [os.path.join(REPO, ".ci", "bin", "cosign")] if os.access(p, os.X_OK)), None)


@pytest.fixture(scope="module")
def keys(tmp_path_factory, session_env):
    directory = tmp_path_factory.mktemp("keys")
    env = dict(session_env, COSIGN_PASSWORD=PASSWORD)
    for prefix in ("cosign", "other"):
        proc = subprocess.run([*_pyko_cmd(), "generate-key-pair", "--output-key-prefix", prefix],
                              cwd=directory, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert PASSWORD not in proc.stdout + proc.stderr
    assert oct(os.stat(directory / "cosign.key").st_mode & 0o777) == "0o600"
    return {"dir": str(directory), "key": str(directory / "cosign.key"), "pub": str(directory / "cosign.pub"),
            "other_key": str(directory / "other.key"), "other_pub": str(directory / "other.pub"), "env": env}


def _pyko_cmd():
    import sys

    return [sys.executable, "-m", "pyko"]


@pytest.fixture(scope="module")
def signed(registry, keys, hello_src, tmp_path_factory):
    """hello-go pushed with --sign-key --recursive and its SBOMs written to a directory too."""
    sbom_dir = str(tmp_path_factory.mktemp("sboms"))
    env = dict(keys["env"], SOURCE_DATE_EPOCH="1700000000")
    proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--repo", f"{registry.host}/sc",
                "--sign-key", keys["key"], "--recursive", "--sbom-dir", sbom_dir, env=env)
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    ref = proc.stdout.strip()
    index = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"]).stdout)
    return {"ref": ref, "name": ref.split("@")[0], "digest": ref.split("@")[1], "sbom_dir": sbom_dir,
            "children": [m["digest"] for m in index["manifests"]]}


def test_build_signs_index_and_children_and_verify_accepts(signed, keys, session_env):
    for digest in [signed["digest"], *signed["children"]]:
        proc = pyko("verify", "--key", keys["pub"], f"{signed['name']}@{digest}", env=session_env)
        assert proc.returncode == 0, proc.stderr
        payload = json.loads(proc.stdout.strip().splitlines()[0])
        assert payload["critical"]["image"]["docker-manifest-digest"] == digest
        assert payload["critical"]["identity"]["docker-reference"] == signed["name"]
        assert payload["critical"]["type"] == "cosign container image signature"
    by_tag = pyko("verify", "--key", keys["pub"], f"{signed['name']}:latest", env=session_env)
    assert by_tag.returncode == 0, by_tag.stderr


def test_sign_with_annotations_appends(signed, keys, session_env):
    image = f"{signed['name']}@{signed['digest']}"
    proc = pyko("sign", "--key", keys["key"], "-a", "env=prod", image, env=keys["env"])
    assert proc.returncode == 0, proc.stderr
    both = pyko("verify", "--key", keys["pub"], image, env=session_env)
    assert len(both.stdout.strip().splitlines()) == 2  # the build's signature and this one
    prod = pyko("verify", "--key", keys["pub"], "-a", "env=prod", image, env=session_env)
    assert prod.returncode == 0 and '"optional":{"env":"prod"}' in prod.stdout
    dev = pyko("verify", "--key", keys["pub"], "-a", "env=dev", image, env=session_env)
    assert_clean_error(dev, "annotations do not match (env=dev)")


def test_verify_refuses_another_key(signed, keys, session_env):
    proc = pyko("verify", "--key", keys["other_pub"], signed["ref"], env=session_env)
    assert_clean_error(proc, "does not verify with this key")


def test_verify_refuses_unsigned_image(registry, session_env, hello_src, keys):
    pushed = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/unsigned",
                  env=session_env)
    assert pushed.returncode == 0, pushed.stderr
    proc = pyko("verify", "--key", keys["pub"], pushed.stdout.strip(), env=session_env)
    assert_clean_error(proc, "no signatures found")


def _put_sig(registry_host, repo, digest, layers):
    """Store a hand-made .sig manifest (test tampering) through pyko's own attachment code."""
    from pyko.supplychain import cosign as sign
    from pyko.transport.attachment_stores import RegistryAttachments
    from pyko.transport.registry.client import Registry, TransportOptions
    from pyko.transport.registry.credentials import Credentials

    store = RegistryAttachments(Registry(registry_host, Credentials(), TransportOptions(environ={})), repo)
    manifest, blobs = sign.artifact_manifest(layers)
    store.put(sign.tag_for(digest, "sig"), manifest, blobs)
    return store


def test_verify_refuses_tampered_payload_and_wrong_digest_claim(registry, session_env, hello_src, keys):
    from pyko.supplychain import cosign as sign

    repo = "tampered"
    built = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--repo", f"{registry.host}/{repo}",
                 "--bare", env=session_env)
    assert built.returncode == 0, built.stderr
    name, digest = built.stdout.strip().split("@")
    key = sign.load_private_key(keys["key"], {"COSIGN_PASSWORD": PASSWORD})

    # A payload changed after signing: the signature no longer matches its bytes.
    honest = sign.payload(name, digest)
    signature = sign.sign(key, honest)
    altered = honest.replace(b"cosign container image signature", b"cosign container image signaturE")
    _put_sig(registry.host, repo, digest, [sign.ArtifactLayer(sign.SIMPLESIGNING, altered,
                                                               {sign.SIGNATURE_ANNOTATION: signature})])
    proc = pyko("verify", "--key", keys["pub"], built.stdout.strip(), env=session_env)
    assert_clean_error(proc, "does not verify with this key (wrong key, or payload altered)")

    # A genuine signature of another image, copied beside this one.
    other = "sha256:" + "1" * 64
    claim = sign.payload(name, other)
    _put_sig(registry.host, repo, digest, [sign.ArtifactLayer(sign.SIMPLESIGNING, claim,
                                                               {sign.SIGNATURE_ANNOTATION: sign.sign(key, claim)})])
    proc = pyko("verify", "--key", keys["pub"], built.stdout.strip(), env=session_env)
    assert_clean_error(proc, f"signs {other}, not {digest}")


def test_sign_and_verify_in_an_oci_layout(keys, session_env, hello_src, tmp_path):
    layout = str(tmp_path / "layout")
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", layout, "--sign-key", keys["key"],
                env=keys["env"])
    assert proc.returncode == 0, proc.stderr
    digest = proc.stdout.strip().split("@")[1]
    ok = pyko("verify", "--key", keys["pub"], "--oci-layout", layout, "hello-go:latest", env=session_env)
    assert ok.returncode == 0, ok.stderr
    assert digest in ok.stdout
    with open(os.path.join(layout, "index.json")) as f:
        names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(f)["manifests"]]
    assert f"hello-go:sha256-{digest.split(':')[1]}.sig" in names
    bad = pyko("verify", "--key", keys["other_pub"], "--oci-layout", layout, "hello-go:latest", env=session_env)
    assert_clean_error(bad, "does not verify")


def _validate_spdx(path):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    messages = validate_full_spdx_document(parse_file(path))
    assert not messages, [m.validation_message for m in messages]
    with open(path) as f:
        return json.load(f)


def test_sbom_files_validate_and_describe_the_image(signed):
    files = sorted(os.listdir(signed["sbom_dir"]))
    assert files == ["hello-go-index.spdx.json", "hello-go-linux-amd64.spdx.json", "hello-go-linux-arm64.spdx.json"]
    doc = _validate_spdx(os.path.join(signed["sbom_dir"], "hello-go-linux-arm64.spdx.json"))
    assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z"  # SOURCE_DATE_EPOCH
    purls = [ref["referenceLocator"] for p in doc["packages"] for ref in p.get("externalRefs", [])]
    assert any(p.startswith("pkg:golang/example.com/hello-go") for p in purls)
    assert any(p.startswith("pkg:oci/hello-go@sha256%3A") and "arch=arm64" in p for p in purls)  # as in the purl spec
    base = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Base")
    assert base["name"] == "pyko://static" and base["versionInfo"].startswith("sha256:")
    index = _validate_spdx(os.path.join(signed["sbom_dir"], "hello-go-index.spdx.json"))
    assert sum(r["relationshipType"] == "VARIANT_OF" for r in index["relationships"]) == 2


def test_sbom_is_attached_where_cosign_looks(signed, tmp_path):
    need("skopeo")
    for digest in [signed["digest"], *signed["children"]]:
        tag = f"sha256-{digest.split(':')[1]}.sbom"
        out = tmp_path / tag
        run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{signed['name']}:{tag}", f"dir:{out}"])
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["layers"][0]["mediaType"] == "text/spdx+json"
        layer = out / manifest["layers"][0]["digest"].split(":")[1]
        named = tmp_path / f"{tag}.spdx.json"  # spdx-tools picks its parser by extension
        shutil.copy(layer, named)
        doc = _validate_spdx(str(named))
        assert digest in doc["documentNamespace"] or any(p.get("versionInfo") == digest for p in doc["packages"])


def test_sbom_none_attaches_nothing(registry, session_env, hello_src):
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{registry.host}/nosbom", "--sbom=none",
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    index = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{proc.stdout.strip()}"]).stdout)
    tag = f"sha256-{index['manifests'][0]['digest'].split(':')[1]}.sbom"
    missing = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                              f"docker://{registry.host}/nosbom/hello-go:{tag}"], capture_output=True, text=True)
    assert missing.returncode != 0


def test_rust_sbom_lists_the_crate(session_env, tmp_path):
    if not shutil.which("cargo"):
        pytest.skip("needs cargo")
    src = tmp_path / "hello-rust"
    shutil.copytree(os.path.join(REPO, "testdata", "hello-rust"), src, ignore=shutil.ignore_patterns("target"))
    proc = pyko("build", str(src), "--platform", "linux/amd64", "--rust-libc", "gnu", "--sbom-dir",
                str(tmp_path / "sboms"), env=session_env)
    assert proc.returncode == 0, proc.stderr
    doc = _validate_spdx(str(tmp_path / "sboms" / "hello-rust-linux-amd64.spdx.json"))
    purls = [ref["referenceLocator"] for p in doc["packages"] for ref in p.get("externalRefs", [])]
    assert "pkg:cargo/hello-rust@0.1.0" in purls


def test_cosign_verifies_pyko_and_pyko_verifies_cosign(signed, keys, session_env):
    cosign = cosign_binary()
    if not cosign:
        pytest.skip("no cosign binary (.ci/install-deps builds one from the Go module proxy when it can)")
    env = dict(keys["env"], HOME=keys["dir"])  # cosign keeps its own state under HOME
    theirs = subprocess.run([cosign, "verify", "--key", keys["pub"], "--insecure-ignore-tlog=true", signed["ref"]],
                            env=env, capture_output=True, text=True, timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    assert signed["digest"] in theirs.stdout
    made = subprocess.run([cosign, "sign", "--key", keys["key"], "--tlog-upload=false", "-y", "-a", "by=cosign",
                           signed["ref"]], env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    ours = pyko("verify", "--key", keys["pub"], "-a", "by=cosign", signed["ref"], env=session_env)
    assert ours.returncode == 0, ours.stderr
    assert '"optional":{"by":"cosign"}' in ours.stdout
    # cosign's own key file, read by pyko
    generated = subprocess.run([cosign, "generate-key-pair", "--output-key-prefix", "theirs"], cwd=keys["dir"],
                               env=env, capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stderr
    signed_by_pyko = pyko("sign", "--key", os.path.join(keys["dir"], "theirs.key"), signed["ref"], env=keys["env"])
    assert signed_by_pyko.returncode == 0, signed_by_pyko.stderr
    check = subprocess.run([cosign, "verify", "--key", os.path.join(keys["dir"], "theirs.pub"),
                            "--insecure-ignore-tlog=true", signed["ref"]], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
