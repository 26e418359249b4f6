import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from oci_tools import HELLO_GO, pyko  # noqa: E402

ALL8 = ["linux/386", "linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm/v7",
        "linux/ppc64le", "linux/riscv64", "linux/s390x"]


@pytest.fixture(scope="session")
def session_env(tmp_path_factory):
    """The environment every CLI run in the suite starts from: its own pyko cache,
    no SOURCE_DATE_EPOCH or config overrides leaking in from the developer's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYKO_", "KO_")) and k != "SOURCE_DATE_EPOCH"}
    env["PYKO_CACHE_DIR"] = str(tmp_path_factory.mktemp("pyko-cache"))
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
