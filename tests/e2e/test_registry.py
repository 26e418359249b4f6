"""Pull and push against the real registry (CNCF distribution), checked with skopeo."""
import json
import os
import stat

import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, unpack_and_run
from registry_fixtures import start_registry, token_server

SECRET = "s3cret-pa55"


def _never_shows(proc, *secrets):
    for secret in secrets:
        assert secret not in proc.stdout and secret not in proc.stderr


def _raw(ref, *extra):
    return json.loads(run(["skopeo", "inspect", "--raw", *extra, f"docker://{ref}"]).stdout)


def test_publish_base_then_build_on_it_by_tag_push_all_and_run(registry, published_base, session_env,
                                                                hello_src, tmp_path):
    need("skopeo", "umoci")
    need_root()
    assert "uploaded 9 blob(s)" in published_base["stderr"]  # 1 layer + 8 configs
    env = dict(session_env, PYKO_DOCKER_REPO=f"{registry.host}/team")
    proc = pyko("build", hello_src, "--platform", "all", "--base", published_base["tag"],
                "-t", "latest", "-t", "v1.2.3", env=env)
    assert proc.returncode == 0, proc.stderr
    ref = proc.stdout.strip().splitlines()[-1]
    assert ref.startswith(f"{registry.host}/team/hello-go@sha256:")
    assert "mounted 1" in proc.stderr  # the base layer came across, not up
    index = _raw(f"{registry.host}/team/hello-go:v1.2.3", "--tls-verify=false")
    assert len(index["manifests"]) == 8
    base_digest = published_base["digest_ref"].split("@")[1]
    assert index["annotations"] == {"org.opencontainers.image.base.name": published_base["tag"],
                                    "org.opencontainers.image.base.digest": base_digest}
    arm64 = next(m for m in index["manifests"] if m["platform"]["architecture"] == "arm64")
    manifest = _raw(f"{registry.host}/team/hello-go@{arm64['digest']}", "--tls-verify=false")
    base_index = _raw(published_base["tag"], "--tls-verify=false")
    base_arm64 = next(m for m in base_index["manifests"] if m["platform"]["architecture"] == "arm64")
    assert manifest["annotations"]["org.opencontainers.image.base.digest"] == base_arm64["digest"]

    # Copy everything back out with skopeo and run two of the platforms.
    layout = str(tmp_path / "copied")
    run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{ref}", f"oci:{layout}:app"])
    for arch in ("amd64", "arm64"):
        out = unpack_and_run(f"oci:{layout}:app", arch, str(tmp_path / arch))
        assert f"Hello from pyko! (linux/{arch})" in out and "uid=65532 gid=65532 user=nonroot" in out

    again = pyko("build", hello_src, "--platform", "all", "--base", published_base["tag"], env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == ref
    assert "uploaded 0 blob(s), 0 bytes" in again.stderr


def test_base_by_digest_builds_offline_once_cached(session_env, hello_src, tmp_path):
    need("skopeo")
    own = start_registry(str(tmp_path / "reg"))
    env = dict(session_env, PYKO_CACHE_DIR=str(tmp_path / "cache"))
    try:
        published = pyko("base", "--repo", f"{own.host}/static", "--platform", "linux/amd64,linux/arm64", env=env)
        assert published.returncode == 0, published.stderr
        pinned = published.stdout.strip()
        first = pyko("build", hello_src, "--platform", "all", "--base", pinned, env=env)
        assert first.returncode == 0, first.stderr
        assert "2 platform(s)" in first.stderr  # all = what the base offers
        missing = pyko("build", hello_src, "--platform", "linux/s390x", "--base", pinned, env=env)
        assert_clean_error(missing, "unknown platform 'linux/s390x'", "offers linux/amd64, linux/arm64")
    finally:
        own.stop()
    offline = pyko("build", hello_src, "--platform", "all", "--base", pinned, env=env)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == first.stdout
    by_tag = pyko("build", hello_src, "--base", f"{own.host}/static:latest", env=env)
    assert_clean_error(by_tag, f"cannot reach the registry of the base image {own.host}/static:latest",
                       "check the base (--base")


def test_single_platform_base(registry, session_env, hello_src):
    proc = pyko("base", "--repo", f"{registry.host}/single", "--platform", "linux/arm64", env=session_env)
    assert proc.returncode == 0, proc.stderr
    index = _raw(f"{registry.host}/single:latest", "--tls-verify=false")
    one = index["manifests"][0]["digest"]
    built = pyko("build", hello_src, "--platform", "all", "--base", f"{registry.host}/single@{one}",
                 env=session_env)
    assert built.returncode == 0, built.stderr
    assert "1 platform(s)" in built.stderr and "linux/arm64" in built.stderr


def test_tls_with_htpasswd_login_push_and_errors(session_env, hello_src, tmp_path):
    need("skopeo")
    reg = start_registry(str(tmp_path / "reg"), tls=True, htpasswd={"alice": SECRET})
    env = dict(session_env, DOCKER_CONFIG=str(tmp_path / "docker"))
    try:
        untrusted = _pyko_stdin(["login", reg.host, "-u", "alice", "--password-stdin"], SECRET, env)
        assert_clean_error(untrusted, "TLS certificate", "not trusted")
        login = _pyko_stdin(["login", reg.host, "-u", "alice", "--password-stdin",
                             "--registry-ca-file", reg.ca_cert], SECRET, env)
        assert login.returncode == 0, login.stderr
        _never_shows(login, SECRET)
        cfg_path = tmp_path / "docker" / "config.json"
        saved = json.loads(cfg_path.read_text())
        assert reg.host in saved["auths"]
        assert stat.S_IMODE(os.stat(cfg_path).st_mode) == 0o600

        wrong = _pyko_stdin(["login", reg.host, "-u", "alice", "--password-stdin",
                             "--registry-ca-file", reg.ca_cert], "nope", env)
        assert_clean_error(wrong, "wrong username or password")

        no_ca = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/apps", env=env)
        assert_clean_error(no_ca, "TLS certificate", "not trusted", "--registry-ca-file")

        pushed = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/apps",
                      "--registry-ca-file", reg.ca_cert, env=env)
        assert pushed.returncode == 0, pushed.stderr
        _never_shows(pushed, SECRET)
        certs = tmp_path / "certs"
        certs.mkdir()
        (certs / "ca.crt").write_bytes(open(reg.ca_cert, "rb").read())
        index = _raw(f"{reg.host}/apps/hello-go:latest", "--cert-dir", str(certs), "--creds", f"alice:{SECRET}")
        assert index["manifests"][0]["digest"]

        logout = pyko("logout", reg.host, env=env)
        assert logout.returncode == 0
        assert reg.host not in json.loads(cfg_path.read_text()).get("auths", {})
        anonymous = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/apps",
                         "--registry-ca-file", reg.ca_cert, env=env)
        assert_clean_error(anonymous, f"authentication to {reg.host} failed", "pyko login")
    finally:
        reg.stop()


def _pyko_stdin(args, stdin, env):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "pyko", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=300)


def test_credential_helper_on_path_is_used(session_env, hello_src, tmp_path):
    reg = start_registry(str(tmp_path / "reg"), htpasswd={"helperuser": SECRET})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helper.log"
    helper = bin_dir / "docker-credential-pykotest"
    helper.write_text(
        "#!/bin/sh\n"
        f"read url\necho \"$1 $url\" >> {log}\n"
        f"if [ \"$1\" = get ] && [ \"$url\" = \"{reg.host}\" ]; then\n"
        f"  printf '{{\"ServerURL\":\"%s\",\"Username\":\"helperuser\",\"Secret\":\"{SECRET}\"}}' \"$url\"\n"
        "else echo 'credentials not found in native keychain'; exit 1; fi\n")
    helper.chmod(0o755)
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credsStore": "pykotest"}))
    env = dict(session_env, DOCKER_CONFIG=str(docker), PATH=f"{bin_dir}:{session_env['PATH']}")
    try:
        proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/h", env=env)
        assert proc.returncode == 0, proc.stderr
        _never_shows(proc, SECRET)
        assert f"get {reg.host}" in log.read_text()
    finally:
        reg.stop()


@pytest.fixture
def token_registry(tmp_path):
    tokens = token_server(str(tmp_path / "tokens"),
                          users={"writer": (SECRET, ["pull", "push"]), "reader": (SECRET, ["pull"])},
                          refresh_tokens={"refresh-xyz": "writer"})
    reg = start_registry(str(tmp_path / "reg"), token=tokens)
    yield reg, tokens
    reg.stop()
    tokens.stop()


def _docker_config(path, host, **entry):
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps({"auths": {host: entry}}))
    return str(path)


def test_bearer_token_push_with_password_and_identity_token(token_registry, session_env, hello_src, tmp_path):
    reg, tokens = token_registry
    import base64
    auth = base64.b64encode(f"writer:{SECRET}".encode()).decode()
    env = dict(session_env, DOCKER_CONFIG=_docker_config(tmp_path / "d1", reg.host, auth=auth))
    base = pyko("base", "--repo", f"{reg.host}/base/static", "--platform", "linux/amd64", env=env)
    assert base.returncode == 0, base.stderr
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--base", f"{reg.host}/base/static",
                "--repo", f"{reg.host}/apps", env=env)
    assert proc.returncode == 0, proc.stderr
    _never_shows(proc, SECRET)
    assert "mounted 1" in proc.stderr
    # The mount asked for push on the target and pull on the source together.
    assert any(set(r["scopes"]) >= {"repository:apps/hello-go:pull,push", "repository:base/static:pull"}
               for r in tokens.requests)

    env2 = dict(session_env, DOCKER_CONFIG=_docker_config(tmp_path / "d2", reg.host, identitytoken="refresh-xyz"))
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/other", env=env2)
    assert proc.returncode == 0, proc.stderr
    _never_shows(proc, "refresh-xyz")
    assert any(r["method"] == "POST" and r["grant_type"] == "refresh_token" for r in tokens.requests)


def test_bearer_errors_are_clear(token_registry, session_env, hello_src, tmp_path):
    reg, _ = token_registry
    import base64
    reader = base64.b64encode(f"reader:{SECRET}".encode()).decode()
    env = dict(session_env, DOCKER_CONFIG=_docker_config(tmp_path / "r", reg.host, auth=reader))
    denied = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/apps", env=env)
    assert_clean_error(denied, f"authentication to {reg.host} failed")
    _never_shows(denied, SECRET)
    wrong = base64.b64encode(b"writer:wrong").decode()
    env = dict(session_env, DOCKER_CONFIG=_docker_config(tmp_path / "w", reg.host, auth=wrong))
    bad = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{reg.host}/apps", env=env)
    assert_clean_error(bad, "refused by its token service", f"pyko login {reg.host}")
    missing = pyko("build", hello_src, "--base", f"{reg.host}/no/such:latest", "--push=false", env=env)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_missing_base_repository(registry, session_env, hello_src):
    proc = pyko("build", hello_src, "--base", f"{registry.host}/nothing/here:latest", env=session_env)
    assert_clean_error(proc, f"{registry.host}/nothing/here")


def test_registry_down_fails_clearly_after_retries(session_env, hello_src):
    from registry_fixtures import free_port

    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--repo", f"{host}/x", env=session_env)
    assert_clean_error(proc, f"cannot reach registry {host}", "connection refused")


def test_push_false_and_bare(registry, session_env, hello_src):
    env = dict(session_env, KO_DOCKER_REPO=f"{registry.host}/bare-app")
    dry = pyko("build", hello_src, "--platform", "linux/amd64", "--bare", "--push=false", env=env)
    assert dry.returncode == 0, dry.stderr
    # KO_DOCKER_REPO makes it a ko user's run: with nothing pushed, ko's line names the first tag
    assert dry.stdout.startswith(f"{registry.host}/bare-app:latest@sha256:")
    assert "pushed" not in dry.stderr
    real = pyko("build", hello_src, "--platform", "linux/amd64", "--bare", env=env)
    assert real.returncode == 0 and real.stdout == dry.stdout.replace(":latest@", "@")
    # ... and, as ko, one platform is pushed as an image alone: the tag names its manifest, not an index
    pushed = _raw(f"{registry.host}/bare-app:latest", "--tls-verify=false")
    assert pushed["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and pushed["layers"]
    inspected = json.loads(run(["skopeo", "inspect", "--tls-verify=false",
                                f"docker://{registry.host}/bare-app:latest"]).stdout)
    assert real.stdout.strip() == f"{registry.host}/bare-app@{inspected['Digest']}"
