"""Layouts, names, kodata and files that cannot be turned against the user; clean
errors for malformed input; nothing left behind. The real CLI, each time."""
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from oci_tools import assert_clean_error, pyko


@pytest.fixture
def env(session_env, tmp_path):
    return dict(session_env, PYKO_CACHE_DIR=str(tmp_path / "cache"), COSIGN_PASSWORD="pw")


@pytest.fixture
def keys(env, tmp_path):
    proc = pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "cosign"), env=env)
    assert proc.returncode == 0, proc.stderr
    return str(tmp_path / "cosign.key"), str(tmp_path / "cosign.pub")


def _layout(env, c_binaries, path, name="app", *extra):
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", name,
                "--oci-layout", str(path), *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().split("@", 1)[1]


def _index(path):
    return json.loads((path / "index.json").read_text())


def _write_index(path, doc):
    (path / "index.json").write_text(json.dumps(doc) if not isinstance(doc, str) else doc)


# --- verify checks the image it vouches for -----------------------------------------------
@pytest.mark.parametrize("damage", ["overwritten", "deleted"])
def test_verify_refuses_when_the_image_itself_is_damaged(env, c_binaries, keys, tmp_path, damage):
    layout = tmp_path / "layout"
    digest = _layout(env, c_binaries, layout)
    key, pub = keys
    assert pyko("sign", "--key", key, "--oci-layout", str(layout), "app:latest", env=env).returncode == 0
    assert pyko("verify", "--key", pub, "--oci-layout", str(layout), "app:latest", env=env).returncode == 0
    blob = layout / "blobs" / "sha256" / digest.split(":")[1]
    if damage == "overwritten":
        blob.write_bytes(b'{"schemaVersion":2,"manifests":[]}')
    else:
        blob.unlink()
    proc = pyko("verify", "--key", pub, "--oci-layout", str(layout), "app:latest", env=env)
    assert_clean_error(proc, "corrupt" if damage == "overwritten" else "lacks blob")
    assert "Verified" not in proc.stderr


def test_sign_refuses_a_traversal_digest_in_the_layout(env, c_binaries, keys, tmp_path):
    layout = tmp_path / "layout"
    _layout(env, c_binaries, layout)
    doc = _index(layout)
    doc["manifests"][0]["digest"] = "sha256:../../../etc/passwd"
    _write_index(layout, doc)
    before = sorted(os.listdir(tmp_path))
    proc = pyko("sign", "--key", keys[0], "--oci-layout", str(layout), "app:latest", env=env)
    assert_clean_error(proc, "is not a valid digest")
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("special", ["dev-zero", "fifo"])
def test_layout_blobs_must_be_regular_files(env, c_binaries, keys, tmp_path, special):
    layout = tmp_path / "layout"
    digest = _layout(env, c_binaries, layout)
    blob = layout / "blobs" / "sha256" / digest.split(":")[1]
    blob.unlink()
    if special == "dev-zero":
        os.symlink("/dev/zero", blob)
    else:
        os.mkfifo(blob)
    proc = pyko("verify", "--key", keys[1], "--oci-layout", str(layout), "app:latest", env=env, timeout=30)
    assert_clean_error(proc, "is not a regular file")


@pytest.mark.parametrize("doc, needle", [
    ("[1, 2]", "must be a JSON object"),
    ({"schemaVersion": 2, "manifests": [1, "x"]}, "manifests must be a list of objects"),
    ({"schemaVersion": 2, "manifests": "all"}, "manifests must be a list of objects"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ('{"manifests": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
])
def test_malformed_index_json_is_one_clean_line(env, c_binaries, keys, tmp_path, doc, needle):
    layout = tmp_path / "layout"
    _layout(env, c_binaries, layout)
    _write_index(layout, doc)
    proc = pyko("verify", "--key", keys[1], "--oci-layout", str(layout), "app:latest", env=env)
    assert_clean_error(proc, needle)


@pytest.mark.parametrize("value", [42, ["a"], {"x": "y"}])
def test_signature_annotation_of_the_wrong_type(env, c_binaries, keys, tmp_path, value):
    layout = tmp_path / "layout"
    _layout(env, c_binaries, layout)
    key, pub = keys
    assert pyko("sign", "--key", key, "--oci-layout", str(layout), "app:latest", env=env).returncode == 0
    sig = next(m for m in _index(layout)["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]
               .endswith(".sig"))
    path = layout / "blobs" / "sha256" / sig["digest"].split(":")[1]
    manifest = json.loads(path.read_text())
    manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] = value
    data = json.dumps(manifest).encode()
    import hashlib
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    doc = _index(layout)
    for entry in doc["manifests"]:
        if entry["digest"] == sig["digest"]:
            entry["digest"], entry["size"] = digest, len(data)
    _write_index(layout, doc)
    proc = pyko("verify", "--key", pub, "--oci-layout", str(layout), "app:latest", env=env)
    assert_clean_error(proc, "annotations must be an object of strings")


# --- names -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../etc/passwd", "app\nevil.io/x@sha256:00", "App", "a/b", ""])
def test_bad_names_are_refused_before_anything_is_built(env, c_binaries, tmp_path, name):
    layout = tmp_path / "layout"
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", name or "-",
                "--oci-layout", str(layout), env=env)
    assert proc.returncode == 2
    assert_clean_error(proc, "is not a valid image name")
    assert proc.stdout == "" and not layout.exists()


def test_a_bad_name_in_the_config_is_refused(env, c_binaries, tmp_path):
    (tmp_path / ".pyko.toml").write_text(
        f'[[builds]]\nname = "../../x"\nbinaries = {{ "linux/amd64" = "{c_binaries["linux/amd64"]}" }}\n')
    proc = pyko("build", "--oci-layout", str(tmp_path / "l"), cwd=str(tmp_path), env=env)
    assert_clean_error(proc, "the image name '../../x' is not a valid image name")


@pytest.mark.parametrize("toml, needle", [
    ('[[builds]]\ndir = "."\nenv = ["A=\\u0000"]\n', "contains a NUL character"),
    ("x = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
])
def test_config_that_no_process_could_take(env, tmp_path, toml, needle):
    (tmp_path / ".pyko.toml").write_text(toml)
    proc = pyko("build", "--push=false", cwd=str(tmp_path), env=env)
    assert_clean_error(proc, needle)


# --- files with secrets, and the umask ------------------------------------------------------
def test_outputs_respect_the_umask(env, c_binaries, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pyko", "build", "--binary",
                           f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app", "--oci-layout",
                           str(tmp_path / "layout"), "--tarball", str(tmp_path / "app.tar")],
                          env=env, capture_output=True, text=True, preexec_fn=lambda: os.umask(0o077))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "app.tar").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "layout").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "layout" / "index.json").st_mode) == 0o600


def test_credentials_file_is_born_0600(env, tmp_path):
    from pyko.transport.registry.credentials import Credentials, DockerConfig

    old = os.umask(0)
    try:
        seen = []
        real_chmod = os.chmod
        os.chmod = lambda path, mode, **kw: (seen.append(mode), real_chmod(path, mode, **kw))[1]
        try:
            DockerConfig(str(tmp_path / "docker")).store("reg.example.com", Credentials("u", "p"))
        finally:
            os.chmod = real_chmod
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "docker" / "config.json").st_mode) == 0o600
    assert seen == [0o600]  # only ever narrowed to 0600, never widened first


def _helper(tmp_path, script):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    helper = bin_dir / "docker-credential-leaky"
    helper.write_bytes(b"#!/bin/sh\n" + script)
    helper.chmod(0o755)
    config = tmp_path / "docker"
    config.mkdir(exist_ok=True)
    (config / "config.json").write_text('{"credsStore": "leaky"}')
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "DOCKER_CONFIG": str(config)}


def test_failing_credential_helper_never_shows_its_stdout(env, c_binaries, tmp_path):
    extra = _helper(tmp_path, b'echo "token=TOP-SECRET"; echo "keychain locked" >&2; echo more >&2; exit 3\n')
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app",
                "--repo", "127.0.0.1:1/x", env=dict(env, **extra))
    assert_clean_error(proc, "docker-credential-leaky get failed (exit status 3): keychain locked")
    assert "TOP-SECRET" not in proc.stderr + proc.stdout and "more" not in proc.stderr


def test_credential_helper_answering_non_utf8(env, c_binaries, tmp_path):
    extra = _helper(tmp_path, b"printf '\\377\\376{}'\n")
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app",
                "--repo", "127.0.0.1:1/x", env=dict(env, **extra))
    assert_clean_error(proc, "not UTF-8")


# --- nothing left behind ---------------------------------------------------------------------
def test_registry_ca_file_leaves_nothing_in_tmp(env, c_binaries, tmp_path, registry):
    from registry_fixtures import make_cert

    _, _, ca, _ = make_cert(str(tmp_path), "extra-ca")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    for _ in range(2):
        proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app",
                    "--repo", f"{registry.host}/ca", "--registry-ca-file", ca, env=dict(env, TMPDIR=str(tmpdir)))
        assert proc.returncode == 0, proc.stderr
    assert os.listdir(tmpdir) == []
    assert len(os.listdir(tmp_path / "cache" / "ca")) == 1  # one combined bundle, reused


def test_sigterm_during_a_compile_cleans_up(env, hello_src, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    run_env = dict(env, TMPDIR=str(tmpdir), GOCACHE=str(tmp_path / "gocache"), GOFLAGS="-buildvcs=false")
    proc = subprocess.Popen([sys.executable, "-m", "pyko", "build", hello_src, "--platform",
                             "linux/s390x,linux/ppc64le", "--oci-layout", str(tmp_path / "layout")],
                            env=run_env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.time() + 60
    while not any("building" in line for line in lines) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the compiler is running now (a cold cache takes many seconds)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    reader.join(5)
    assert proc.returncode == 143
    assert lines[-1].strip() == "pyko: terminated"
    assert os.listdir(tmpdir) == []  # pyko's work dir and the compiler's are gone
    leftovers = [os.path.join(d, f) for d, _, fs in os.walk(tmp_path / "cache") for f in fs if f.endswith(".tmp")]
    assert leftovers == [] and not (tmp_path / "layout").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".layout.")]


def test_next_write_removes_debris_of_a_killed_one(env, c_binaries, tmp_path):
    layout = tmp_path / "layout"
    _layout(env, c_binaries, layout)
    (tmp_path / ".layout.abc123.tmp" / "blobs").mkdir(parents=True)   # a killed first write
    (layout / ".index.json.xyz.tmp").write_text("{")                    # a killed index update
    (layout / "blobs" / "sha256" / ".deadbeef.q.tmp").write_text("half a blob")
    _layout(env, c_binaries, layout, "other")
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith(".")) == []
    assert not [p for p in os.listdir(layout) if p.endswith(".tmp")]
    assert not [p for p in os.listdir(layout / "blobs" / "sha256") if p.endswith(".tmp")]


def test_two_builds_into_one_layout_both_land(env, c_binaries, tmp_path):
    layout = tmp_path / "layout"
    procs = [subprocess.Popen([sys.executable, "-m", "pyko", "build", "--binary",
                               f"linux/amd64={c_binaries['linux/amd64']}", "--name", name, "--oci-layout",
                               str(layout), "-t", "v1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in ("first", "second", "third")]
    for proc in procs:
        assert proc.wait(120) == 0, proc.stderr.read()
    names = {m["annotations"]["org.opencontainers.image.ref.name"] for m in _index(layout)["manifests"]}
    assert names == {"first:v1", "second:v1", "third:v1"}
