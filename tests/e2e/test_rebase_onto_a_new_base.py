"""`pyko rebase` against the real registry: the app's layers untouched and not uploaded, the
new base's mounted, the result runs; wrong old bases and missing platforms are clear errors."""
import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, skopeo_config, skopeo_raw, unpack_and_run


@pytest.fixture(scope="module")
def bases(registry, published_base, c_binaries, session_env):
    """The old base (pyko's, by `pyko base`) and a changed one: the old plus an extra file."""
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}",
                "--binary", f"linux/arm64={c_binaries['linux/arm64']}", "--name", "newbase",
                "--base", published_base["tag"], "--repo", f"{registry.host}/newbase", "--bare", "--sbom=none",
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    return published_base["tag"], f"{registry.host}/newbase:latest"


@pytest.fixture(scope="module")
def app(registry, bases, hello_src, session_env):
    proc = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--base", bases[0],
                "--repo", f"{registry.host}/reb", "--image-env", "APP_MODE=kept", "--sbom=none", env=session_env)
    assert proc.returncode == 0, proc.stderr
    return f"{registry.host}/reb/hello-go", proc.stdout.strip().split("@")[1]


def _layers(ref):
    return [layer["digest"] for layer in skopeo_raw(f"docker://{ref}")["layers"]]


def test_rebase_keeps_the_app_uploads_no_app_bytes_and_runs(registry, bases, app, session_env, tmp_path):
    need("skopeo")
    name, before = app
    old_children = {m["platform"]["architecture"]: m["digest"]
                    for m in skopeo_raw(f"docker://{name}@{before}")["manifests"]}
    proc = pyko("rebase", f"{name}:latest", "--base", bases[1], env=session_env)
    assert proc.returncode == 0, proc.stderr
    after = proc.stdout.strip()
    assert after.startswith(f"{name}@sha256:") and after.split("@")[1] != before
    # Two new configs go up; the new base's extra layers are mounted; no app layer moves.
    assert "uploaded 2 blob(s)" in proc.stderr and "mounted 2" in proc.stderr
    index = skopeo_raw(f"docker://{after}")
    assert index["annotations"]["org.opencontainers.image.base.name"] == bases[1]
    new_base_index = skopeo_raw(f"docker://{bases[1]}")
    for entry in index["manifests"]:
        arch = entry["platform"]["architecture"]
        new_base_child = next(m["digest"] for m in new_base_index["manifests"]
                              if m["platform"]["architecture"] == arch)
        rebased, original = _layers(f"{name}@{entry['digest']}"), _layers(f"{name}@{old_children[arch]}")
        base_layers = _layers(f"{registry.host}/newbase@{new_base_child}")
        assert rebased == base_layers + original[1:]  # the old base had one layer; the app's are the same blobs
        manifest = skopeo_raw(f"docker://{name}@{entry['digest']}")
        assert manifest["annotations"]["org.opencontainers.image.base.digest"] == new_base_child
    config = skopeo_config(f"docker://{after}", arch="amd64")["config"]
    assert "APP_MODE=kept" in config["Env"] and config["Cmd"] == ["/ko-app/hello-go"]
    assert [e for e in config["Env"] if e.startswith("PATH=")][0].count("/ko-app") == 1
    assert skopeo_raw(f"docker://{name}:latest") == index  # the tag it was given by moved
    need_root()
    layout = tmp_path / "copy"
    run(["skopeo", "copy", "--all", "--src-tls-verify=false", f"docker://{after}", f"oci:{layout}:app"])
    out = unpack_and_run(f"oci:{layout}:app", "arm64", str(tmp_path / "run"))
    assert "Hello from pyko! (linux/arm64)" in out and "APP_MODE=kept" in out
    assert (tmp_path / "run" / "bundle-arm64" / "rootfs" / "ko-app" / "newbase").exists()  # the new base's file


def test_rebase_in_a_layout_and_the_errors(registry, bases, hello_src, session_env, tmp_path):
    need("skopeo")
    layout = str(tmp_path / "layout")
    built = pyko("build", hello_src, "--platform", "linux/amd64", "--base", bases[0], "--oci-layout", layout,
                 env=session_env)
    assert built.returncode == 0, built.stderr
    proc = pyko("rebase", "hello-go:latest", "--oci-layout", layout, "--base", bases[1], "-t", "rebased",
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert skopeo_raw(f"oci:{layout}:hello-go:rebased")["annotations"]["org.opencontainers.image.base.name"] == \
        bases[1]
    wrong = pyko("rebase", "hello-go:latest", "--oci-layout", layout, "--base", bases[1], "--old-base", bases[1],
                 env=session_env)
    assert_clean_error(wrong, "its bottom layers are not the old base's")
    single = pyko("base", "--repo", f"{registry.host}/only-arm", "--platform", "linux/arm64", env=session_env)
    assert single.returncode == 0, single.stderr
    missing = pyko("rebase", "hello-go:latest", "--oci-layout", layout, "--base", f"{registry.host}/only-arm",
                   env=session_env)
    assert_clean_error(missing, "has no linux/amd64 image")
    static = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", layout, "--name", "onstatic",
                  env=session_env)
    assert static.returncode == 0, static.stderr
    unknown = pyko("rebase", "onstatic:latest", "--oci-layout", layout, "--base", bases[1], env=session_env)
    assert_clean_error(unknown, "does not say what it was built on", "--old-base")
    moved = pyko("rebase", "onstatic:latest", "--oci-layout", layout, "--base", bases[1], "--old-base",
                 "pyko://static", env=session_env)
    assert moved.returncode == 0, moved.stderr


def test_rebase_onto_the_same_base_changes_no_digest(registry, bases, hello_src, session_env):
    built = pyko("build", hello_src, "--platform", "linux/amd64,linux/arm64", "--base", bases[0], "--repo",
                 f"{registry.host}/same-base", "--image-env", "APP_MODE=kept", "--sbom=none", env=session_env)
    assert built.returncode == 0, built.stderr
    name, before = built.stdout.strip().split("@")
    proc = pyko("rebase", f"{name}:latest", "--base", bases[0], "-t", "again", env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split("@")[1] == before   # the Env kept its order: the same index, byte for byte
