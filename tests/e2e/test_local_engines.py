"""--local into real engines started by the suite: Docker (dockerd, classic store) and
Podman. The image is loaded, run, and its user and labels checked by the engine itself."""
import json

import pytest

from engines import podman_in, start_dockerd
from oci_tools import assert_clean_error, pyko


@pytest.fixture(scope="module")
def dockerd(tmp_path_factory):
    engine = start_dockerd(str(tmp_path_factory.mktemp("dockerd")))
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    return podman_in(str(tmp_path_factory.mktemp("podman")))


def _build_local(env, src, *extra):
    proc = pyko("build", src, "--platform", "linux/amd64,linux/arm64", "-L", "--image-label", "team=pyko",
                "-t", "dev", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    ref = proc.stdout.strip()
    assert ref.startswith("pyko.local/hello-go:") and len(ref.rsplit(":", 1)[1]) == 64  # the index digest's hex
    return ref, proc.stderr


def test_local_into_docker_runs_as_nonroot_with_its_label(dockerd, hello_src, session_env):
    env = dict(session_env, **dockerd.env)
    ref, log = _build_local(env, hello_src)
    assert "into docker" in log and "linux/amd64 only: docker's image store keeps one platform per name" in log
    run = dockerd.docker("run", "--rm", "--network", "none", ref)
    assert run.returncode == 0, run.stderr
    assert "Hello from pyko! (linux/amd64)" in run.stdout and "uid=65532" in run.stdout
    inspected = json.loads(dockerd.docker("inspect", "pyko.local/hello-go:dev").stdout)[0]
    assert inspected["Config"]["User"] == "65532" and inspected["Config"]["Labels"] == {"team": "pyko"}
    assert inspected["Id"] == json.loads(dockerd.docker("inspect", ref).stdout)[0]["Id"]  # both tags: one image


def test_local_into_podman(podman, hello_src, session_env):
    env = dict(session_env, **podman.env)
    ref, log = _build_local(env, hello_src, "--local-engine", "podman")
    assert "into podman" in log
    run = podman.run(ref)
    assert run.returncode == 0, run.stderr
    assert "Hello from pyko! (linux/amd64)" in run.stdout and "user=nonroot" in run.stdout
    inspected = json.loads(podman.podman("image", "inspect", "pyko.local/hello-go:dev").stdout)[0]
    assert inspected["Config"]["User"] == "65532" and inspected["Config"]["Labels"] == {"team": "pyko"}


def test_local_with_no_engine_fails_before_compiling(hello_src, session_env, tmp_path):
    env = dict(session_env, DOCKER_HOST=f"unix://{tmp_path}/absent.sock")
    proc = pyko("build", hello_src, "-L", env=env)
    assert_clean_error(proc, "cannot reach the Docker engine", "is dockerd running")
    assert "building" not in proc.stderr


def test_a_ko_users_local_build_is_named_as_ko_names_it(dockerd, hello_src, session_env, published_base):
    """-L in a ko user's run (here KO_DEFAULTBASEIMAGE says so), side by side with ko v0.19.1 into the
    same dockerd: ko.local/<last element>-<md5 of the import path>, as ko names it; of two platforms
    (arm64 first), this one-platform store gets linux/amd64 from both, as ko picks it."""
    import hashlib
    import os
    import subprocess
    ko = os.path.join(os.path.dirname(__file__), "..", "..", ".ci", "bin", "ko")
    if not os.access(ko, os.X_OK):
        pytest.skip("needs ko v0.19.1 (.ci/install-deps builds it into .ci/bin)")
    env = dict(session_env, **dockerd.env, KO_DEFAULTBASEIMAGE=published_base["tag"])
    platforms = ["--platform", "linux/arm64,linux/amd64"]
    by_ko = subprocess.run([ko, "build", ".", "-L", *platforms], cwd=hello_src, env=env,
                           capture_output=True, text=True, timeout=600)
    assert by_ko.returncode == 0, by_ko.stderr
    by_pyko = pyko("build", ".", "-L", *platforms, cwd=hello_src, env=env)
    assert by_pyko.returncode == 0, by_pyko.stderr
    name = f"ko.local/hello-go-{hashlib.md5(b'example.com/hello-go').hexdigest()}"
    assert by_ko.stdout.strip().rsplit(":", 1)[0] == by_pyko.stdout.strip().rsplit(":", 1)[0] == name
    for ref in (by_ko.stdout.strip(), by_pyko.stdout.strip()):
        inspected = json.loads(dockerd.docker("inspect", ref).stdout)[0]
        assert inspected["Config"]["Entrypoint"] == ["/ko-app/hello-go"] and inspected["Architecture"] == "amd64"
