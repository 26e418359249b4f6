"""`pyko resolve`, `apply` and `delete` against the real registry: each distinct
reference built once, the YAML unchanged but for the references, kubectl fed the result."""
import hashlib
import os
import shutil
import stat

import pytest

from oci_tools import REPO, assert_clean_error, need, pyko, run

MANIFESTS = """\
# Two deployments and a config map; comments, order and quoting must survive.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: server   # the API
  labels: {app: server}
spec:
  template:
    spec:
      containers:
      - name: server
        image: ko://example.com/multi/cmd/server
        args: ["--port", "8080"]
      - name: sidecar
        image: "pyko://./cmd/server"     # the same program, named by directory
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cli
  labels:
    app: cli
spec:
  template:
    spec:
      containers:
      - {name: cli, image: 'pyko://./cmd/cli'}
---
kind: ConfigMap
apiVersion: v1
metadata: {name: notes, labels: {app: server}}
data:
  readme: |
    Built with ko://example.com/multi/cmd/server (prose is left alone).
"""


@pytest.fixture
def module(tmp_path):
    dest = tmp_path / "multi"
    shutil.copytree(os.path.join(REPO, "testdata", "multi-go"), dest)
    (dest / "config").mkdir()
    (dest / "config" / "app.yaml").write_text(MANIFESTS)
    return dest


def test_resolve_builds_each_reference_once_and_changes_nothing_else(registry, module, session_env):
    need("skopeo")
    env = dict(session_env, PYKO_DOCKER_REPO=f"{registry.host}/kube")
    proc = pyko("resolve", "-f", "config/", "--sbom=none", cwd=str(module), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("building server linux/amd64") == 1 and proc.stderr.count("building cli ") == 1
    out = proc.stdout
    # The YAML names images the ko way (ko://), so the run is a ko user's: ko's names
    name = f"server-{hashlib.md5(b'example.com/multi/cmd/server').hexdigest()}"
    server = next(line.split("image: ", 1)[1] for line in out.splitlines() if "name: server\n" not in line
                  and "image: " in line and f"/kube/{name}@" in line)
    assert server.startswith(f"{registry.host}/kube/{name}@sha256:")
    cli_ref = out.split("image: '", 1)[1].split("'", 1)[0]
    expected = (MANIFESTS.replace("image: ko://example.com/multi/cmd/server", f"image: {server}")
                .replace('"pyko://./cmd/server"', f'"{server}"').replace("'pyko://./cmd/cli'", f"'{cli_ref}'"))
    assert out == expected  # byte for byte, prose in the block scalar included
    for ref in (server, cli_ref):  # every reference is really there
        run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"])


def test_selector_stdin_and_errors(registry, module, session_env):
    env = dict(session_env, PYKO_DOCKER_REPO=f"{registry.host}/kube")
    proc = pyko("resolve", "-f", "-", "-l", "app=cli", "--sbom=none", cwd=str(module), env=env,
                input=MANIFESTS)
    assert proc.returncode == 0, proc.stderr
    assert "name: cli" in proc.stdout and "name: server" not in proc.stdout and "building server" not in proc.stderr
    bad = module / "config" / "bad.yaml"
    bad.write_text("kind: Pod\nspec:\n  image: ko://example.com/multi/cmd/missing\n")
    assert_clean_error(pyko("resolve", "-f", str(bad), cwd=str(module), env=env),
                       "bad.yaml:3:", "names no Go main package")
    assert_clean_error(pyko("resolve", "-f", "config/", cwd=str(module), env=session_env), "set --repo")


def test_apply_pipes_to_kubectl_and_delete_passes_through(registry, module, session_env, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "kubectl.log"
    fake = bin_dir / "kubectl"
    fake.write_text(f'#!/bin/sh\necho "ARGS: $*" >> {record}\ncat >> {record}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(session_env, PYKO_DOCKER_REPO=f"{registry.host}/kube", PATH=f"{bin_dir}:{session_env['PATH']}")
    proc = pyko("apply", "-f", "config/app.yaml", "-l", "app=cli", "--sbom=none", "--", "--namespace", "dev",
                cwd=str(module), env=env)
    assert proc.returncode == 0, proc.stderr
    logged = record.read_text()
    assert logged.startswith("ARGS: apply -f - --namespace dev\n")
    assert f"{registry.host}/kube/cli@sha256:" in logged and "pyko://" not in logged
    record.write_text("")
    proc = pyko("delete", "-f", "config/app.yaml", "--wait=false", cwd=str(module), env=env, input="")
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().startswith("ARGS: delete -f config/app.yaml --wait=false\n")
