"""The same digest on any machine: layer bytes depend on the input and pyko's pinned zlib-ng, not on
the zlib the Python runtime links, the CPU architecture or the core count; the layer cache never
serves one deflater's bytes as another's; the provenance names the deflater."""
import json
import os
import subprocess
import sys

import pytest

from oci_tools import REPO, pyko

AARCH64 = os.path.join(REPO, ".ci", "aarch64")
PROBE = os.path.join(REPO, "tests", "helpers", "deflate_probe.py")
#: Run pyko with the runtime's zlib replaced by zlib-ng's module before pyko is imported: what a
#: Python linked against zlib-ng (Fedora's zlib-ng-compat, some bundled builds) gives.
SWAPPED = ("import runpy, sys; from zlib_ng import zlib_ng; sys.modules['zlib'] = zlib_ng; "
           "sys.argv[0] = 'pyko'; runpy.run_module('pyko', run_name='__main__')")


def test_aarch64_under_qemu_makes_the_recorded_bytes_with_any_number_of_workers():
    from deflate_probe import RECORDED

    python = os.path.join(AARCH64, "root", "usr", "bin", "python3.11")
    if not os.path.exists(python):
        pytest.skip("no aarch64 Python (.ci/install-deps runs .ci/aarch64-python)")
    env = {"PYTHONHOME": os.path.join(AARCH64, "root", "usr"), "PYTHONPATH": f"{REPO}:{AARCH64}/site",
           "PATH": os.environ["PATH"]}
    proc = subprocess.run(["qemu-aarch64-static", "-L", os.path.join(AARCH64, "root"), python, PROBE, "1", "2", "8"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "aarch64" in subprocess.run(["qemu-aarch64-static", "-L", os.path.join(AARCH64, "root"), python, "-c",
                                        "import platform; print(platform.machine())"],
                                       capture_output=True, text=True, env=env, timeout=60).stdout
    assert [line.split()[1] for line in proc.stdout.splitlines()] == [RECORDED] * 3


def _build(hello_src, env, layout, *more, swapped=False):
    args = [sys.executable, "-c", SWAPPED] if swapped else [sys.executable, "-m", "pyko"]
    return subprocess.run([*args, "build", hello_src, "--platform", "linux/amd64", "--oci-layout", str(layout),
                           *more], capture_output=True, text=True, env=env, timeout=600)


def test_another_runtime_zlib_gives_the_same_digest_and_cannot_mix_in_the_layer_cache(hello_src, session_env,
                                                                                      tmp_path):
    env = dict(session_env, SOURCE_DATE_EPOCH="1700000000")
    empty = lambda name: dict(env, PYKO_CACHE_DIR=str(tmp_path / "caches" / name))  # noqa: E731 - a fresh runner
    normal = _build(hello_src, empty("a"), tmp_path / "a")
    swapped = _build(hello_src, empty("b"), tmp_path / "b", swapped=True)
    assert normal.returncode == 0 and swapped.returncode == 0, normal.stderr + swapped.stderr
    assert normal.stdout.strip() == swapped.stdout.strip()
    # The swap is real: the runtime's zlib at level 6 (--compression-compat) gives other bytes under it.
    compat = _build(hello_src, empty("c"), tmp_path / "c", "--compression-compat")
    compat_swapped = _build(hello_src, empty("d"), tmp_path / "d", "--compression-compat", swapped=True)
    assert compat.returncode == 0 and compat_swapped.returncode == 0, compat.stderr + compat_swapped.stderr
    assert compat.stdout.strip() != compat_swapped.stdout.strip()
    assert compat.stdout.strip() != normal.stdout.strip()
    # One layer cache, filled under one zlib and read under the other: each build still gets its own
    # deflater's bytes (the cache key names it), whatever the cache holds.
    shared = dict(env, PYKO_CACHE_DIR=str(tmp_path / "caches" / "shared"))
    first = _build(hello_src, shared, tmp_path / "e", "--compression-compat", swapped=True)
    second = _build(hello_src, shared, tmp_path / "f")
    third = _build(hello_src, shared, tmp_path / "g", swapped=True)
    assert first.stdout.strip() == compat_swapped.stdout.strip()
    assert second.stdout.strip() == third.stdout.strip() == normal.stdout.strip()
    assert "layer cache: 2 layer(s) reused" in third.stderr, third.stderr


def test_the_provenance_names_the_deflater(hello_src, session_env, tmp_path):
    env = dict(session_env, COSIGN_PASSWORD="", SOURCE_DATE_EPOCH="1700000000")
    made = pyko("generate-key-pair", "--output-key-prefix", str(tmp_path / "k"), env=env)
    assert made.returncode == 0, made.stderr
    built = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "out"),
                 "--sign-key", str(tmp_path / "k.key"), env=env)
    assert built.returncode == 0, built.stderr
    name, digest = built.stdout.strip().split("@")
    verified = pyko("verify-attestation", "--oci-layout", str(tmp_path / "out"), "--key", str(tmp_path / "k.pub"),
                    "--type", "slsaprovenance1", f"{name}@{digest}", env=env)
    assert verified.returncode == 0, verified.stderr
    statement = json.loads(verified.stdout.splitlines()[0])
    assert statement["predicate"]["buildDefinition"]["internalParameters"]["compression"] == \
        {"library": "zlib-ng", "version": "2.3.3", "level": 2}
