import os
import shutil
import subprocess
import sys

import pytest

# The suite's own helpers (real tools, fixtures, fakes) are imported by name.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "helpers"))

from oci_tools import HELLO_GO, REPO, pyko  # noqa: E402

HELLO_C = os.path.join(REPO, "testdata", "hello-c", "hello.c")
E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e") + os.sep


def pytest_collection_modifyitems(config, items):
    """Tests under tests/e2e are marked e2e, the rest unit: the directory is the tier."""
    for item in items:
        item.add_marker(pytest.mark.e2e if str(item.path).startswith(E2E) else pytest.mark.unit)

#: What would make keyless signing find a CI's identity token: never inherited by the suite.
AMBIENT_OIDC = ("SIGSTORE_ID_TOKEN", "GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "GITLAB_CI", "BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME")


@pytest.fixture(scope="session")
def session_env(tmp_path_factory):
    """The environment every CLI run in the suite starts from: its own pyko cache,
    no SOURCE_DATE_EPOCH or config overrides leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYKO_", "KO_")) and k not in ("SOURCE_DATE_EPOCH", *AMBIENT_OIDC)}
    env["PYKO_CACHE_DIR"] = str(tmp_path_factory.mktemp("pyko-cache"))
    env["DOCKER_CONFIG"] = str(tmp_path_factory.mktemp("docker-config"))  # never the developer's logins
    env["PYKO_REGISTRY_RETRIES"] = "2"  # a registry that is down fails in seconds, not minutes
    env["CI"] = "true"  # line-oriented logs, never the live display
    return env


@pytest.fixture(scope="session")
def hello_src(tmp_path_factory):
    """A copy of testdata/hello-go outside any git checkout, so Go's VCS stamping
    cannot make the result depend on the state of this repository."""
    dest = tmp_path_factory.mktemp("src") / "hello-go"
    shutil.copytree(HELLO_GO, dest)
    return str(dest)


@pytest.fixture(scope="session")
def hello_all(tmp_path_factory, session_env, hello_src):
    """hello-go built once for all 8 platforms into an OCI layout (the main job)."""
    layout = str(tmp_path_factory.mktemp("all") / "layout")
    proc = pyko("build", hello_src, "--platform", "all", "--oci-layout", layout, env=session_env)
    assert proc.returncode == 0, proc.stderr
    ref = proc.stdout.strip().splitlines()[-1]
    return {"layout": layout, "ref": ref, "digest": ref.split("@", 1)[1], "stderr": proc.stderr}


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A real registry on loopback, plain HTTP (allowed for loopback only)."""
    from registry_fixtures import start_registry

    running = start_registry(str(tmp_path_factory.mktemp("registry")))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def published_base(registry, session_env):
    """pyko's built-in base, published to the registry by `pyko base`."""
    proc = pyko("base", "--repo", f"{registry.host}/static", env=session_env)
    assert proc.returncode == 0, proc.stderr
    ref = proc.stdout.strip().splitlines()[-1]
    return {"tag": f"{registry.host}/static:latest", "digest_ref": ref, "stderr": proc.stderr}


@pytest.fixture(scope="session")
def c_binaries(tmp_path_factory):
    out = tmp_path_factory.mktemp("c")
    built = {}
    for platform, compiler in (("linux/amd64", "cc"), ("linux/arm64", "aarch64-linux-gnu-gcc")):
        if not shutil.which(compiler):
            pytest.skip(f"needs {compiler} (.ci/install-deps installs gcc-aarch64-linux-gnu)")
        path = str(out / platform.replace("/", "-"))
        subprocess.run([compiler, "-static", "-O2", "-o", path, HELLO_C], check=True)
        built[platform] = path
    dynamic = str(out / "dynamic")
    subprocess.run(["cc", "-O2", "-o", dynamic, HELLO_C], check=True)
    built["dynamic"] = dynamic
    return built
