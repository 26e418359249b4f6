"""Property-based: random and mutated index.json, manifests, configs, signature
manifests and .pyko.toml files. Every parser either accepts or raises pyko's own
error for malformed input; the CLI over a fuzzed layout exits 0, 1 or 2 with one
`pyko: error:` line, never 70, never a traceback, and writes nothing elsewhere."""
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

from pyko.errors import ConfigError, MalformedInput, PykoError
from pyko.image.documents import load_json, parse_config, parse_index, parse_manifest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25)
KEYS = ["schemaVersion", "mediaType", "manifests", "layers", "config", "digest", "size", "platform",
        "annotations", "architecture", "os", "variant", "rootfs", "diff_ids", "subject", "artifactType"]
DIGEST = "sha256:" + "a" * 64
VALID_INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 10,
     "platform": {"os": "linux", "architecture": "amd64"}, "annotations": {"a": "b"}}]}
VALID_MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 3},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGEST,
                              "size": 5, "annotations": {"dev.cosignproject.cosign/signature": "x"}}]}
VALID_CONFIG = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [DIGEST]},
                "config": {"Env": ["A=b"]}, "history": []}


def _mutate(doc, path, value):
    """`doc` with the element at `path` (indexes into nested lists/dicts, taken modulo) replaced."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    keys = list(doc.keys()) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[key] = _mutate(doc[key], path[1:], value)
    return copy


def mutated(valid):
    whole = st.builds(lambda v: json.dumps(v).encode(), json_values)
    changed = st.builds(lambda p, v: json.dumps(_mutate(valid, p, v)).encode(),
                        st.lists(st.integers(0, 10), max_size=4), json_values | st.sampled_from(KEYS))
    added = st.builds(lambda k, v: json.dumps({**valid, k: v}).encode(), st.sampled_from(KEYS), json_values)
    raw = st.binary(max_size=200)
    return whole | changed | added | raw


@settings(max_examples=300, deadline=None)
@given(mutated(VALID_INDEX) | mutated(VALID_MANIFEST) | mutated(VALID_CONFIG))
def test_document_parsers_accept_or_refuse_cleanly(data):
    for parse in (load_json, parse_index, parse_manifest, parse_config):
        try:
            parse(data, "fuzzed")
        except MalformedInput:
            pass


TOML_LINES = ['defaultBaseImage = "pyko://static"', 'defaultPlatforms = ["linux/amd64"]', "[[builds]]",
              'id = "app"', 'dir = "."', 'main = "."', 'name = "app"', 'ldflags = ["-s"]', 'env = ["A=b"]',
              'flags = ["-tags=x"]', '[baseImageOverrides]', '"./x" = "reg.io/b"', 'binaries = {}', 'x = 1',
              'rustLibc = "musl"', 'bin = "a"', "[[builds]]", "[tool.pyko]", "= = =", 'name = 7', 'env = "A=b"']


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOML_LINES) | st.text(max_size=30), max_size=10))
def test_config_files_accept_or_refuse_cleanly(tmp_path, lines):
    from pyko.config import load_config

    path = tmp_path / ".pyko.toml"
    path.write_text("\n".join(lines) + "\n", errors="surrogatepass")
    try:
        load_config(str(tmp_path), environ={})
    except ConfigError:
        pass
    except UnicodeEncodeError:
        pass  # a lone surrogate cannot even be written; nothing for pyko to read


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


def test_pyko_errors_are_what_the_parsers_raise():
    assert issubclass(MalformedInput, PykoError) and issubclass(ConfigError, PykoError)
