"""Property-based: the CLI over a fuzzed OCI layout (random and mutated index.json,
image index and signature manifest) exits 0, 1 or 2 with one `pyko: error:` line,
never 70, never a traceback, and writes nothing outside the layout."""
import contextlib
import hashlib
import io
import json
import os
import shutil
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutations import VALID_INDEX, VALID_MANIFEST, mutated


# --- the CLI over a fuzzed layout -----------------------------------------------------------
def _cli(argv):
    """Run pyko's main() in this process; (exit code, stderr)."""
    from pyko.cli import main

    saved = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    err, out = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            main(argv)
    except SystemExit as done:
        code = done.code or 0
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        signal.signal(signal.SIGINT, saved[1])
    return code, err.getvalue()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, c_binaries, session_env):
    """A signed layout built once; each example works on a fresh copy of it."""
    from oci_tools import pyko

    root = tmp_path_factory.mktemp("fuzz")
    env = dict(session_env, COSIGN_PASSWORD="pw")
    assert pyko("generate-key-pair", "--output-key-prefix", str(root / "cosign"), env=env).returncode == 0
    layout = root / "layout"
    assert pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "app",
                "--oci-layout", str(layout), env=env).returncode == 0
    assert pyko("sign", "--key", str(root / "cosign.key"), "--oci-layout", str(layout), "app:latest",
                env=env).returncode == 0
    return root


def _replace_blob(layout, old_digest, data):
    """Put `data` in the layout as a blob and point every index.json entry for `old_digest` at it."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    index = json.loads((layout / "index.json").read_text())
    for entry in index["manifests"]:
        if entry["digest"] == old_digest:
            entry["digest"], entry["size"] = digest, len(data)
    (layout / "index.json").write_text(json.dumps(index))


def _entry(layout, suffix):
    index = json.loads((layout / "index.json").read_text())
    return next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"].endswith(suffix))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["index.json", "image index", "signature manifest"]),
       data=mutated(VALID_INDEX) | mutated(VALID_MANIFEST))
def test_cli_over_a_fuzzed_layout_exits_cleanly(pristine, tmp_path, monkeypatch, which, data):
    work = tmp_path / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work)
    layout = work / "layout"
    if which == "index.json":
        (layout / "index.json").write_bytes(data)
    else:
        _replace_blob(layout, _entry(layout, ":latest" if which == "image index" else ".sig")["digest"], data)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    before = sorted(os.listdir(work))
    for argv in (["verify", "--key", str(work / "cosign.pub"), "--oci-layout", str(layout), "app:latest"],
                 ["sign", "--key", str(work / "cosign.key"), "--recursive", "--oci-layout", str(layout),
                  "app:latest"]):
        code, err = _cli(argv)
        assert code in (0, 1, 2), err
        assert "Traceback" not in err and "internal error" not in err, err
        if code:
            assert err.strip().splitlines()[-1].startswith("pyko: error: "), err
    assert sorted(os.listdir(work)) == before

