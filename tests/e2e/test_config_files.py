"""Config-driven builds, for real: [[builds]] with templated ldflags, several paths, dedupe."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from oci_tools import assert_clean_error, need, need_root, pyko, run, skopeo_raw, unpack_and_run


def test_builds_entry_with_templated_ldflags(session_env, hello_src, tmp_path):
    need("skopeo", "umoci")
    need_root()
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(hello_src, project / "cmd" / "hello-go")
    (project / ".pyko.toml").write_text(
        'defaultPlatforms = ["linux/amd64"]\n\n'
        '[[builds]]\nid = "hello"\ndir = "cmd"\nmain = "hello-go"\n'
        'ldflags = ["-s", "-w", "-X main.version={{.Env.APP_VERSION}}"]\n')
    layout = str(tmp_path / "layout")
    env = dict(session_env, APP_VERSION="1.2.3")
    proc = pyko("build", "--oci-layout", layout, cwd=str(project), env=env)  # no PATH: the [[builds]]
    assert proc.returncode == 0, proc.stderr
    assert "version=1.2.3" in unpack_and_run(f"oci:{layout}:hello-go:latest", "amd64", str(tmp_path))


def test_several_paths_build_several_images(session_env, hello_src, tmp_path):
    need("skopeo")
    other = tmp_path / "checkout"
    shutil.copytree(hello_src, other)
    # Named after the import path's last element, not the directory.
    (other / "go.mod").write_text((other / "go.mod").read_text().replace("example.com/hello-go",
                                                                           "example.com/other-app"))
    layout = str(tmp_path / "layout")
    twin = tmp_path / "twin"
    shutil.copytree(hello_src, twin)
    same = pyko("build", hello_src, str(twin), "--oci-layout", layout, env=session_env)
    assert_clean_error(same, "two images would be named hello-go")
    assert "building" not in same.stderr
    proc = pyko("build", hello_src, str(other), "--platform", "linux/arm64", "--oci-layout", layout,
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split("@")[0] for line in lines] == ["hello-go", "other-app"]
    for line in lines:
        name, digest = line.split("@")
        assert skopeo_raw(f"oci:{layout}:{name}:latest")["manifests"][0]["platform"]["architecture"] == "arm64"


def test_platforms_with_the_same_goarch_compile_once(session_env, hello_src):
    # linux/arm64 and linux/arm64/v8 are the same target: one `go build`.
    proc = pyko("build", hello_src, "--platform", "linux/arm64,linux/arm64/v8", env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("building hello-go linux/arm64") == 1


@pytest.mark.parametrize("delay", [0.5, 3.0, 3.6, 4.2])  # compiling, then writing
def test_killed_build_never_leaves_a_broken_layout(session_env, hello_src, tmp_path, delay):
    need("oci-image-tool")
    layout = str(tmp_path / "layout")
    first = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", layout, "-t", "old",
                 env=session_env)
    assert first.returncode == 0, first.stderr
    fresh = str(tmp_path / "fresh")
    procs = [subprocess.Popen([sys.executable, "-m", "pyko", "build", hello_src, "--platform", "all",
                               "--oci-layout", target, "-t", "new"], env=session_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for target in (layout, fresh)]
    time.sleep(delay)
    for p in procs:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # The existing layout still validates, with whatever it had or got, and
    # the new one either does not exist or is complete.
    run(["oci-image-tool", "validate", "--type", "image", "--ref", "name=hello-go:old", layout])
    if os.path.exists(fresh):
        run(["oci-image-tool", "validate", "--type", "image", "--ref", "name=hello-go:new", fresh])
