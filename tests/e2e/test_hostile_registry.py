"""A registry (or a man in the middle of plain HTTP) that is out to harm: pyko
must refuse it in one clean line, touch no file outside its own directories,
send credentials nowhere but the registry and its realm, and stay bounded in
memory whatever it is sent. The real CLI runs in a child process each time."""
import base64
import json
import os

import pytest

from hostile import OCI_INDEX, OCI_MANIFEST, FakeRegistry, base_image, run_measured, sha
from oci_tools import assert_clean_error

HUGE = 300 << 20     # what a hostile registry sends
RSS_BOUND = 200      # MiB: pyko's peak must stay well under what it was sent


@pytest.fixture
def fake():
    registry = FakeRegistry()
    yield registry
    registry.close()


@pytest.fixture
def env(session_env, tmp_path):
    out = dict(session_env, PYKO_CACHE_DIR=str(tmp_path / "cache"), PYKO_REGISTRY_RETRIES="1")
    return out


@pytest.fixture
def binary(c_binaries):
    return c_binaries["linux/amd64"]


def _build_on(fake_base: str, binary: str, env: dict, *extra: str):
    return run_measured(["build", "--binary", f"linux/amd64={binary}", "--name", "app", "--base", fake_base,
                         *extra], env)


def _files_under(path):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(path) for f in files)


# --- digests that try to name local files -------------------------------------------------
@pytest.mark.parametrize("where", ["layer", "config", "index entry"])
def test_traversal_digest_is_refused_and_no_file_is_read_or_written(fake, env, binary, tmp_path, where):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    evil = "sha256:../../../../../../../.." + str(secret)
    base_image(fake, "evil", layer_digest=evil if where == "layer" else "",
               config_digest=evil if where == "config" else "", entry_digest=evil if where == "index entry" else "")
    before = _files_under(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    proc, _ = _build_on(f"{fake.host}/evil", binary, env, "--oci-layout", str(out / "layout"),
                        "--tarball", str(out / "app.tar"))
    assert_clean_error(proc, "is not a valid digest")
    assert not os.listdir(out)  # nothing written
    assert [f for f in _files_under(tmp_path) if f not in before and "/cache/" not in f] == []
    assert not any(".." in s.path for s in fake.seen)  # nor asked for


# --- credentials go to the registry and its realm only -----------------------------------
def _with_login(env, tmp_path, host):
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"me:s3cret").decode()
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return dict(env, DOCKER_CONFIG=str(config))


def _basic_auth(fake):
    def ping(h):
        if h.headers.get("Authorization"):
            return h.reply(200, {})
        h.reply(401, {}, {"WWW-Authenticate": 'Basic realm="fake"'})
    fake.route("GET", "/v2/", ping)


def test_upload_location_on_another_host_gets_no_authorization(fake, env, binary, tmp_path):
    other = FakeRegistry()
    try:
        _basic_auth(fake)
        fake.accepting_pushes("team/app", upload_location=lambda: f"http://{other.host}/upload/1")
        other.route("PUT", "/upload/.*", lambda h: (fake.blobs.__setitem__(
            h.path.split("digest=", 1)[1].replace("%3A", ":"), h.body), h.reply(201)))
        proc, _ = run_measured(["build", "--binary", f"linux/amd64={binary}", "--name", "app", "--repo",
                                f"{fake.host}/team", "--sbom=none"], _with_login(env, tmp_path, fake.host))
        assert proc.returncode == 0, proc.stderr
        assert [s for s in other.seen if s.method == "PUT"]  # the uploads did go there
        assert all("Authorization" not in s.headers for s in other.seen)
        assert any("Authorization" in s.headers for s in fake.seen)
        assert "s3cret" not in proc.stderr + proc.stdout
    finally:
        other.close()


def test_redirect_to_another_host_never_learns_its_challenge(fake, env, binary, tmp_path):
    other = FakeRegistry()
    try:
        _basic_auth(fake)
        layer = b"layer bytes"
        base_image(fake, "base")
        # Every blob is "moved" to another host, which then asks for Bearer credentials at its own realm.
        fake.routes.insert(0, ("GET", "/v2/base/blobs/.*", lambda h: h.reply(307, headers={
            "Location": f"http://{other.host}/cdn/{h.path.rsplit('/', 1)[1]}"})))
        other.route("GET", "/cdn/.*", lambda h: h.reply(401, {}, {
            "WWW-Authenticate": f'Bearer realm="http://{other.host}/token",service="x"'}))
        other.route("GET", "/token", lambda h: h.reply(200, {"token": "t"}))
        proc, _ = _build_on(f"{fake.host}/base", binary, _with_login(env, tmp_path, fake.host), "--push=false")
        assert_clean_error(proc, "401")
        assert [s.path for s in other.seen if s.path.startswith("/token")] == []
        assert all("Authorization" not in s.headers for s in other.seen)
        del layer
    finally:
        other.close()


# --- bounded reads -----------------------------------------------------------------------
def test_huge_ping_body_is_never_read(fake, env, binary):
    fake.route("GET", "/v2/", lambda h: h.stream(200, HUGE))
    base_image(fake, "base")
    proc, peak = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert proc.returncode == 0, proc.stderr  # the ping's body is no business of pyko's
    assert peak < RSS_BOUND, peak


def test_huge_error_body_is_read_only_in_part(fake, env, binary):
    fake.route("GET", "/v2/base/manifests/latest", lambda h: h.stream(404, HUGE))
    proc, peak = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert_clean_error(proc, "not found")
    assert peak < RSS_BOUND, peak


def test_huge_config_is_refused_before_it_is_fetched(fake, env, binary):
    base_image(fake, "base")
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(b"c"),
                           "size": HUGE}, "layers": []}
    digest = fake.manifest("big", "m", manifest)
    entry = {"mediaType": OCI_MANIFEST, "digest": digest, "size": 1,
             "platform": {"os": "linux", "architecture": "amd64"}}
    fake.manifest("big", "latest", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}, OCI_INDEX)
    fake.route("GET", f"/v2/big/blobs/{sha(b'c')}", lambda h: h.stream(200, HUGE))
    proc, peak = _build_on(f"{fake.host}/big", binary, env, "--push=false")
    assert_clean_error(proc, "its config is", "more than")
    assert peak < RSS_BOUND, peak


def test_config_sent_larger_than_declared_is_refused(fake, env, binary):
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}}).encode()
    base_image(fake, "base", config=config)
    fake.routes.insert(0, ("GET", f"/v2/base/blobs/{sha(config)}", lambda h: h.stream(200, HUGE)))
    proc, peak = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert_clean_error(proc)
    assert peak < RSS_BOUND, peak


def _signed_image(fake, layers):
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    digest = fake.manifest("app", "latest", index, OCI_INDEX)
    sig = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(b"{}"), "size": 2},
           "layers": layers}
    fake.manifest("app", digest.replace(":", "-") + ".sig", sig)
    return digest


def test_signature_layer_sent_larger_than_declared(fake, env, tmp_path):
    layer = {"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sha(b"p" * 226),
             "size": 226, "annotations": {"dev.cosignproject.cosign/signature": "MEUC"}}
    _signed_image(fake, [layer])
    fake.route("GET", f"/v2/app/blobs/{layer['digest']}", lambda h: h.stream(200, HUGE))
    pub = _public_key(tmp_path)
    proc, peak = run_measured(["verify", "--key", pub, f"{fake.host}/app:latest"], env)
    assert_clean_error(proc)
    assert peak < RSS_BOUND, peak


def test_signature_manifest_whose_layers_are_too_big(fake, env, tmp_path):
    layers = [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
               "digest": sha(str(n).encode()), "size": 2 << 20} for n in range(500)]
    _signed_image(fake, layers)
    fake.route("GET", "/v2/app/blobs/.*", lambda h: h.stream(200, 2 << 20))
    proc, peak = run_measured(["verify", "--key", _public_key(tmp_path), f"{fake.host}/app:latest"], env)
    assert_clean_error(proc, "more than the 33554432 pyko reads")
    assert peak < RSS_BOUND, peak
    assert not [s for s in fake.seen if "/blobs/" in s.path]  # refused before fetching any


def _public_key(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "cosign.pub"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(path)


# --- text and JSON from a registry ---------------------------------------------------------
def test_control_characters_in_registry_text_are_not_printed(fake, env, binary):
    message = "denied\x1b[2J\x1b]0;pwned\x07\nfake: second line\u202e"
    fake.route("GET", "/v2/base/manifests/latest", lambda h: h.reply(403, {"errors": [
        {"code": "DENIED", "message": message}]}, {"Warning": '299 - "\x1b[31mred"'}))
    proc, _ = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    last = assert_clean_error(proc, "denied")
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr and "\u202e" not in proc.stderr
    assert "second line" in last  # the registry's newline did not start a line of its own


def _deep(n):
    return b'{"schemaVersion":2,"mediaType":"' + OCI_INDEX.encode() + b'","manifests":' + b"[" * n + b"]" * n + b"}"


@pytest.mark.parametrize("case, needle", [
    ("deep", "nested too deeply"),
    ("digest-without-colon", "not a valid digest"),
    ("manifests-is-a-string", "manifests must be a list"),
    ("size-is-a-string", "not a valid size"),
    ("platform-is-a-path", "not a valid os, architecture or variant"),
    ("not-json", "not valid JSON"),
    ("list", "must be a JSON object"),
])
def test_malformed_json_is_one_clean_line(fake, env, binary, case, needle):
    entry = {"mediaType": OCI_MANIFEST, "digest": sha(b"m"), "size": 1,
             "platform": {"os": "linux", "architecture": "amd64"}}
    doc = {
        "deep": _deep(10_000),
        "digest-without-colon": {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [dict(entry, digest="abc")]},
        "manifests-is-a-string": {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "all of them"},
        "size-is-a-string": {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [dict(entry, size="1")]},
        "platform-is-a-path": {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            dict(entry, platform={"os": "linux", "architecture": "../../tmp/x"})]},
        "not-json": b"{not json",
        "list": b"[1, 2]",
    }[case]
    fake.manifest("base", "latest", doc, OCI_INDEX)
    proc, _ = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert proc.returncode == 1
    assert_clean_error(proc, needle)


def test_truncated_chunked_body_is_retried_then_one_clean_line(fake, env, binary):
    def cut(h):
        h.send_response(200)
        h.send_header("Content-Type", OCI_INDEX)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"100\r\n" + b"{" * 20)
        h.close_connection = True
    fake.route("GET", "/v2/base/manifests/latest", cut)
    proc, _ = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert_clean_error(proc, "cut off", "gave up after 1 retries")
    assert len([s for s in fake.seen if s.path == "/v2/base/manifests/latest"]) == 2


def test_unreachable_token_realm_is_one_clean_line(fake, env, binary):
    fake.route("GET", "/v2/", lambda h: h.reply(401, {}, {
        "WWW-Authenticate": 'Bearer realm="http://127.0.0.1:1/token",service="fake"'}))
    proc, _ = _build_on(f"{fake.host}/base", binary, env, "--push=false")
    assert_clean_error(proc, "token", "connection refused")
