"""A registry-shared Go build cache that cannot be poisoned, on the real registry.

Two programs A and B (one module path, one package path, different source): their caches are saved
and signed by the pipeline that built them. Someone who can only push to the cache repository then
makes A's cache point A's differing compile actions at B's outputs (with B's correct output ids, so
every entry's bytes still hash to its id) and pushes it under A's tag. A fresh runner with a policy
for the real signer must build A, byte for byte as a cold build does, and say why it did not use
the cache; every other bad cache (unsigned, another key, another identity, changed after signing,
a layer served wrong, another Go's) likewise. With the documented opt-out the poisoned cache is
used, and the build's log and provenance say it was unverified."""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest
import requests

from oci_tools import pyko
from sigstore_services import GITHUB, SigstoreServices

EPOCH = "1700000000"
SOURCE = 'package main\n\nimport "os"\n\nfunc main() {{ os.Stdout.WriteString("{}\\n") }}\n'
ARCHIVE, ELF = b"!<arch>\n", b"\x7fELF"


def _program(root, says):
    app = root / "app"
    app.mkdir(parents=True)
    (app / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    (app / "main.go").write_text(SOURCE.format(says))
    return str(app)


def _fresh(session_env, tmp_path, name, **more):
    """A new CI runner: no Go cache, no pyko cache."""
    return dict(session_env, GOCACHE=str(tmp_path / f"gocache-{name}"), PYKO_CACHE_DIR=str(tmp_path / f"pyko-{name}"),
                SOURCE_DATE_EPOCH=EPOCH, COSIGN_PASSWORD="", **more)


@pytest.fixture(scope="module")
def world(registry, session_env, tmp_path_factory):
    """Programs A and B, two keys, and the caches the trusted pipeline saved and signed for each."""
    top = tmp_path_factory.mktemp("poison")
    a, b = _program(top / "a", "A"), _program(top / "b", "B")
    env = _fresh(session_env, top, "keys")
    for prefix in ("good", "other"):
        made = pyko("generate-key-pair", "--output-key-prefix", str(top / prefix), env=env)
        assert made.returncode == 0, made.stderr
    world = {"a": a, "b": b, "top": top, "cache": f"{registry.host}/ci-cache/app",
             "good": str(top / "good"), "other": str(top / "other")}
    cold = _build(world, registry, _fresh(session_env, top, "cold"), "cold", a)
    world["cold"] = cold
    for program, tag, key in ((a, "a", "good"), (b, "b", "good"), (a, "a-other-key", "other")):
        saved = _build(world, registry, _fresh(session_env, top, f"save-{tag}"), f"save-{tag}", program,
                       "--cache-to", f"{world['cache']}:{tag}", "--sign-key", f"{world[key]}.key")
        assert "go cache: saved to" in saved.stderr and "signed the go cache" in saved.stderr, saved.stderr
    unsigned = _build(world, registry, _fresh(session_env, top, "save-unsigned"), "save-unsigned", a,
                      "--cache-to", f"{world['cache']}:unsigned")
    assert "saved unsigned" in unsigned.stderr, unsigned.stderr
    return world


def _build(world, registry, env, name, program, *more):
    layout = world["top"] / f"layout-{name}"
    proc = pyko("build", program, "--platform", "linux/amd64", "--oci-layout", str(layout), "--repo",
                f"{registry.host}/ci-images", "--push=false", *more, env=env)
    assert proc.returncode == 0, proc.stderr
    proc.layout = str(layout)
    return proc


def _digest(proc):
    return proc.stdout.strip().rsplit("@", 1)[1]


def _binary_says(layout):
    """Run the app binary of the one image in `layout` (linux/amd64, natively) and return what it prints."""
    with open(os.path.join(layout, "index.json")) as f:
        top = json.load(f)["manifests"][0]["digest"].split(":")[1]
    blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])  # noqa: E731
    with open(blob("sha256:" + top)) as f:
        index = json.load(f)
    with open(blob(index["manifests"][0]["digest"])) as f:
        manifest = json.load(f)
    for layer in manifest["layers"]:
        with tarfile.open(blob(layer["digest"]), "r:gz") as tar:
            for member in tar:
                if member.isreg() and member.name.endswith("ko-app/app"):
                    path = os.path.join(layout, "app-binary")
                    with open(path, "wb") as out:
                        out.write(tar.extractfile(member).read())
                    os.chmod(path, 0o755)
                    return subprocess.run([path], capture_output=True, text=True, timeout=30).stdout.strip()
    raise AssertionError("no ko-app/app in the image")


# --- the attacker's tools: the registry's own HTTP API, as anyone with push access has it ------------
def _get(registry, repo, kind, ref, accept="application/vnd.oci.image.manifest.v1+json"):
    resp = requests.get(f"http://{registry.host}/v2/{repo}/{kind}/{ref}", headers={"Accept": accept}, timeout=30)
    resp.raise_for_status()
    return resp.content


def _push_blob(registry, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = requests.post(f"http://{registry.host}/v2/{repo}/blobs/uploads/", timeout=30)
    location = start.headers["Location"]
    location = location if location.startswith("http") else f"http://{registry.host}{location}"
    put = requests.put(location + ("&" if "?" in location else "?") + f"digest={digest}", data=data, timeout=60,
                       headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 201, put.text
    return {"mediaType": "application/vnd.pyko.go-build-cache.layer.v1.tar+gzip", "digest": digest,
            "size": len(data)}


def _push_manifest(registry, repo, tag, manifest):
    data = json.dumps(manifest).encode()
    put = requests.put(f"http://{registry.host}/v2/{repo}/manifests/{tag}", data=data, timeout=30,
                       headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert put.status_code == 201, put.text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _entries(registry, repo, tag):
    """(manifest, {name: bytes}) of a cache artifact."""
    manifest = json.loads(_get(registry, repo, "manifests", tag))
    entries = {}
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(_get(registry, repo, "blobs", layer["digest"])), mode="r:gz") as tar:
            for member in tar:
                entries[member.name] = tar.extractfile(member).read()
    return manifest, entries


def _poison(registry, world):
    """A's cache with A's own compile and link actions pointing at B's outputs of the same kind."""
    repo = world["cache"].split("/", 1)[1]
    manifest, a = _entries(registry, repo, "a")
    _, b = _entries(registry, repo, "b")
    a_only = [n for n in a if n.startswith("a/") and n not in b]
    b_only = [n for n in b if n.startswith("a/") and n not in a]

    def kind(entries, action):
        output = entries[action].split()[0].decode()
        return entries[f"o/{output}"][:8]

    forged = dict(a)
    swapped = 0
    for action in a_only:
        twin = next((x for x in b_only if kind(b, x) == kind(a, action) and kind(a, action)[:4] in (ARCHIVE[:4], ELF)),
                    None)
        if twin is None:
            continue
        output, size, _ = b[twin].split()
        forged[action] = b" ".join([output, size, a[action].split()[2]])   # B's output id, honestly hashed
        forged[f"o/{output.decode()}"] = b[f"o/{output.decode()}"]
        swapped += 1
    assert swapped, "A and B share every action: nothing to poison"
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name in sorted(forged):
            info = tarfile.TarInfo(name)
            info.size = len(forged[name])
            tar.addfile(info, io.BytesIO(forged[name]))
    layer = _push_blob(registry, repo, raw.getvalue())
    signed = "sha256-" + hashlib.sha256(_get(registry, repo, "manifests", "a")).hexdigest()
    forged = _push_manifest(registry, repo, "a", {**manifest, "layers": [layer]})
    # The attacker also lists the real signature as a referrer of the forged manifest (the fallback
    # tag of its digest): it still signs the old digest, so it must not count.
    index = _get(registry, repo, "manifests", signed, accept="application/vnd.oci.image.index.v1+json")
    put = requests.put(f"http://{registry.host}/v2/{repo}/manifests/sha256-{forged.split(':')[1]}", data=index,
                       headers={"Content-Type": "application/vnd.oci.image.index.v1+json"}, timeout=30)
    assert put.status_code == 201, put.text
    return forged


@pytest.fixture(scope="module")
def poisoned(registry, world):
    return _poison(registry, world)


def test_a_poisoned_cache_is_refused_by_the_signers_policy_and_the_build_is_cold(registry, world, poisoned,
                                                                                  session_env, tmp_path):
    assert _binary_says(world["cold"].layout) == "A"
    proc = _build(world, registry, _fresh(session_env, tmp_path, "victim"), "victim", world["a"],
                  "--cache-from", f"{world['cache']}:a", "--cache-key", f"{world['good']}.pub")
    lines = [line for line in proc.stderr.splitlines() if "warning: go cache" in line]
    assert len(lines) == 1 and "not used" in lines[0] and "no valid signature" in lines[0], proc.stderr
    assert _digest(proc) == _digest(world["cold"])
    assert _binary_says(proc.layout) == "A"


def test_without_a_policy_the_opt_out_uses_the_poisoned_cache_and_says_it_is_unverified(registry, world, poisoned,
                                                                                       session_env, tmp_path):
    env = _fresh(session_env, tmp_path, "optout")
    proc = _build(world, registry, env, "optout", world["a"], "--cache-from", f"{world['cache']}:a",
                  "--cache-trust=none", "--sign-key", f"{world['good']}.key")
    assert "UNVERIFIED" in proc.stderr, proc.stderr
    # What the opt-out means: whoever could push to the cache decided the binary.
    assert _binary_says(proc.layout) == "B"
    name = proc.stdout.strip().split("@")[0]
    attested = pyko("verify-attestation", "--oci-layout", proc.layout, "--key", f"{world['good']}.pub", "--type",
                    "slsaprovenance1", f"{name}@{_digest(proc)}", env=env)
    assert attested.returncode == 0, attested.stderr
    statement = json.loads(attested.stdout.splitlines()[0])
    binaries = statement["predicate"]["buildDefinition"]["externalParameters"]["binaries"]
    cache = binaries[0]["buildCache"]
    assert cache["verified"] is False and cache["digest"] == poisoned and "signer" not in cache


def test_without_a_policy_or_the_opt_out_cache_from_is_refused(world, session_env, tmp_path, registry):
    proc = pyko("build", world["a"], "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "x"),
                "--cache-from", f"{world['cache']}:a", env=_fresh(session_env, tmp_path, "nopolicy"))
    assert proc.returncode == 2 and "--cache-trust=none" in proc.stderr and "--cache-key" in proc.stderr


@pytest.mark.parametrize("tag, why", [("unsigned", "no signatures found"), ("a-other-key", "no valid signature")])
def test_an_unsigned_or_foreign_signed_cache_is_a_warning_and_a_cold_build(registry, world, session_env, tmp_path,
                                                                           tag, why):
    proc = _build(world, registry, _fresh(session_env, tmp_path, tag), tag, world["a"],
                  "--cache-from", f"{world['cache']}:{tag}", "--cache-key", f"{world['good']}.pub")
    assert why in proc.stderr and "compiling without it" in proc.stderr, proc.stderr
    assert _digest(proc) == _digest(world["cold"])


def test_a_cache_changed_after_signing_or_of_another_go_is_refused(registry, world, session_env, tmp_path):
    repo = world["cache"].split("/", 1)[1]
    manifest = json.loads(_get(registry, repo, "manifests", "b"))
    changed = {**manifest, "annotations": {"changed": "after signing"}}
    _push_manifest(registry, repo, "changed", changed)
    proc = _build(world, registry, _fresh(session_env, tmp_path, "changed"), "changed", world["a"],
                  "--cache-from", f"{world['cache']}:changed", "--cache-key", f"{world['good']}.pub")
    assert "no signatures found" in proc.stderr and _digest(proc) == _digest(world["cold"])
    # A signed cache of another Go, re-tagged: verified, and still not used (it would not match).
    config = json.dumps({"goVersion": "go1.20"}, separators=(",", ":")).encode()
    config_desc = {**_push_blob(registry, repo, config), "mediaType": manifest["config"]["mediaType"]}
    old = _push_manifest(registry, repo, "old-go", {**manifest, "config": config_desc})
    signed = pyko("sign", "--key", f"{world['good']}.key", f"{world['cache']}@{old}",
                  env=_fresh(session_env, tmp_path, "signer"))
    assert signed.returncode == 0, signed.stderr
    proc = _build(world, registry, _fresh(session_env, tmp_path, "oldgo"), "oldgo", world["a"],
                  "--cache-from", f"{world['cache']}:old-go", "--cache-key", f"{world['good']}.pub")
    assert "was written by 'go1.20'" in proc.stderr and _digest(proc) == _digest(world["cold"])


def test_a_layer_served_wrong_is_refused_whole(registry, world, session_env, tmp_path):
    from faultproxy import FaultProxy

    repo = world["cache"].split("/", 1)[1]
    layer = json.loads(_get(registry, repo, "manifests", "b"))["layers"][0]["digest"]
    proxy = FaultProxy(registry.host, 5, {"corrupt": 1.0}, only=f"/blobs/{layer}")   # that layer, every time
    try:
        proc = _build(world, registry, _fresh(session_env, tmp_path, "swapped", PYKO_REGISTRY_RETRIES="1"),
                      "swapped", world["a"], "--cache-from", f"{proxy.host}/ci-cache/app:b", "--cache-key",
                      f"{world['good']}.pub")
    finally:
        proxy.stop()
    assert proxy.injected["corrupt"] >= 1
    lines = [line for line in proc.stderr.splitlines() if "warning: go cache" in line]
    assert len(lines) == 1 and "not used" in lines[0], proc.stderr
    assert _digest(proc) == _digest(world["cold"])


def test_the_provenance_names_the_verified_cache_by_digest_and_signer(registry, world, session_env, tmp_path):
    env = _fresh(session_env, tmp_path, "good")
    proc = _build(world, registry, env, "good", world["b"], "--cache-from", f"{world['cache']}:b", "--cache-key",
                  f"{world['good']}.pub", "--sign-key", f"{world['good']}.key")
    assert "verified" in proc.stderr and "entries from" in proc.stderr, proc.stderr
    name = proc.stdout.strip().split("@")[0]
    attested = pyko("verify-attestation", "--oci-layout", proc.layout, "--key", f"{world['good']}.pub", "--type",
                    "slsaprovenance1", f"{name}@{_digest(proc)}", env=env)
    statement = json.loads(attested.stdout.splitlines()[0])
    binaries = statement["predicate"]["buildDefinition"]["externalParameters"]["binaries"]
    cache = binaries[0]["buildCache"]
    repo = world["cache"].split("/", 1)[1]
    expected = "sha256:" + hashlib.sha256(_get(registry, repo, "manifests", "b")).hexdigest()
    assert cache["digest"] == expected and cache["verified"] is True
    assert cache["signer"].startswith("signed with") and cache["uri"].endswith("ci-cache/app:b")
    assert _binary_says(proc.layout) == "B"


def test_a_keyless_signed_cache_verifies_by_identity_and_not_by_another(registry, world, session_env, tmp_path):
    services = SigstoreServices()
    try:
        trust, root = services.write_files(str(tmp_path))
        ci = _fresh(session_env, tmp_path, "ci", GITHUB_ACTIONS="true",
                    ACTIONS_ID_TOKEN_REQUEST_TOKEN=services.request_token,
                    ACTIONS_ID_TOKEN_REQUEST_URL=f"{services.oidc.url}/github-token?api-version=2.0")
        _build(world, registry, ci, "keyless-save", world["b"], "--cache-to", f"{world['cache']}:keyless",
               "--sign-keyless", "--trust-config", trust)
        for identity, used in ((services.identity_of(), True), (services.identity_of(workflow="x.yml"), False)):
            proc = _build(world, registry, _fresh(session_env, tmp_path, f"kl-{used}"), f"kl-{used}", world["b"],
                          "--cache-from", f"{world['cache']}:keyless", "--trusted-root", root,
                          "--cache-certificate-identity", identity, "--cache-certificate-oidc-issuer", GITHUB)
            assert ("entries from" in proc.stderr) is used, proc.stderr
            assert ("compiling without it" in proc.stderr) is not used, proc.stderr
    finally:
        services.close()


# --- a hostile cache registry: every case ends as one warning and a cold compile, bounded in time -------
def _hostile_cache(fake, go_version, layer_route=None, layer=b"layer"):
    from hostile import sha

    config = json.dumps({"goVersion": go_version}).encode()
    fake.blob("c/app", config)
    digest = sha(layer)
    if layer_route is not None:
        fake.route("GET", f"/v2/c/app/blobs/{digest}", layer_route)
    fake.manifest("c/app", "go-build-cache", {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.pyko.go-build-cache.v1",
        "config": {"mediaType": "application/vnd.pyko.go-build-cache.config.v1+json", "digest": sha(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.pyko.go-build-cache.layer.v1.tar+gzip", "digest": digest,
                    "size": len(layer)}]})


def _go_version(env):
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, env=env).stdout.strip()


def test_a_registry_dripping_the_cache_is_left_behind_at_the_registry_timeout(world, session_env, tmp_path):
    import time

    from hostile import FakeRegistry

    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(1 << 20))
        handler.end_headers()
        try:
            for _ in range(600):   # one byte a second, for up to ten minutes
                handler.wfile.write(b"\0")
                handler.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    fake = FakeRegistry()
    env = _fresh(session_env, tmp_path, "drip")
    try:
        _hostile_cache(fake, _go_version(env), drip, layer=b"\0" * (1 << 20))
        started = time.monotonic()
        proc = pyko("build", world["a"], "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "out"),
                    "--cache-from", f"{fake.host}/c/app", "--cache-trust=none", "--registry-timeout", "5", env=env)
        elapsed = time.monotonic() - started
    finally:
        fake.close()
    assert proc.returncode == 0, proc.stderr
    assert "not used" in proc.stderr and "compiling without it" in proc.stderr, proc.stderr
    assert elapsed < 60, f"the build waited {elapsed:.0f} s for a dripping cache"
    assert _digest(proc) == _digest(world["cold"])


def test_a_huge_go_version_is_not_printed_whole(world, session_env, tmp_path):
    from hostile import FakeRegistry

    fake = FakeRegistry()
    try:
        _hostile_cache(fake, "go" + "9" * (1 << 20))
        proc = pyko("build", world["a"], "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "out"),
                    "--cache-from", f"{fake.host}/c/app", "--cache-trust=none",
                    env=_fresh(session_env, tmp_path, "huge"))
    finally:
        fake.close()
    assert proc.returncode == 0, proc.stderr
    assert "was written by" in proc.stderr and len(proc.stderr) < 4000
