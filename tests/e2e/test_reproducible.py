"""Same source, same SOURCE_DATE_EPOCH -> same digest, whatever the caches hold."""
import json
import os

import pytest

from oci_tools import pyko


def _fresh_env(session_env, tmp_path, name):
    env = dict(session_env)
    env["GOCACHE"] = str(tmp_path / name / "gocache")
    env["PYKO_CACHE_DIR"] = str(tmp_path / name / "pyko-cache")
    return env


def _build(env, src, *args):
    proc = pyko("build", src, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_all_platforms_same_digest_with_separate_go_and_pyko_caches(hello_all, session_env, hello_src, tmp_path):
    # The session build used the shared Go cache; this one starts from empty caches.
    again = _build(_fresh_env(session_env, tmp_path, "cold"), hello_src, "--platform", "all")
    assert again == hello_all["ref"]


def test_source_date_epoch_sets_created_and_is_reproducible(session_env, hello_src, tmp_path):
    env = dict(session_env, SOURCE_DATE_EPOCH="1700000000")
    layouts = []
    refs = []
    for n in range(2):
        layout = str(tmp_path / f"layout{n}")
        refs.append(_build(_fresh_env(env, tmp_path, f"c{n}") if n else env, hello_src,
                           "--platform", "linux/amd64", "--oci-layout", layout))
        layouts.append(layout)
    assert refs[0] == refs[1]
    unset = _build(session_env, hello_src, "--platform", "linux/amd64")
    assert unset != refs[0]  # the epoch is part of the image
    with open(os.path.join(layouts[0], "index.json")) as f:
        index_digest = json.load(f)["manifests"][0]["digest"]
    blobs = os.path.join(layouts[0], "blobs", "sha256")
    index = json.load(open(os.path.join(blobs, index_digest.split(":")[1])))
    manifest = json.load(open(os.path.join(blobs, index["manifests"][0]["digest"].split(":")[1])))
    config = json.load(open(os.path.join(blobs, manifest["config"]["digest"].split(":")[1])))
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert all(h["created"] == "2023-11-14T22:13:20Z" for h in config["history"][1:])
