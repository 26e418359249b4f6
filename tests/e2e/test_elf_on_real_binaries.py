"""The ELF check on real binaries from real compilers: Go for all eight platforms (from the
session's build), C static, static-pie and dynamic, and an arm64 C binary offered as amd64.
Crafted headers are the unit tier's (tests/unit/toolchains/test_elf.py)."""
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from pyko.errors import BuildError
from pyko.platforms import Platform
from pyko.toolchains.elf import check_static_for

from oci_tools import ALL8, REPO

HELLO_C = os.path.join(REPO, "testdata", "hello-c", "hello.c")


def _cc(tmp_path, name, *args, compiler="cc"):
    if not shutil.which(compiler):
        pytest.skip(f"needs {compiler}")
    out = str(tmp_path / name)
    subprocess.run([compiler, *args, "-o", out, HELLO_C], check=True, capture_output=True)
    return out


def _go_binaries(layout, dest):
    """The hello-go binary of each platform, read out of the session's layout."""
    blobs = os.path.join(layout, "blobs", "sha256")
    load = lambda d: json.load(open(os.path.join(blobs, d.split(":")[1])))  # noqa: E731
    index = load(json.load(open(os.path.join(layout, "index.json")))["manifests"][0]["digest"])
    found = {}
    for entry in index["manifests"]:
        p = entry["platform"]
        platform = Platform(p["os"], p["architecture"], p.get("variant", ""))
        top = load(entry["digest"])["layers"][-1]["digest"].split(":")[1]
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(open(os.path.join(blobs, top), "rb").read()))) as tar:
            path = os.path.join(dest, platform.slug)
            with open(path, "wb") as f:
                f.write(tar.extractfile("ko-app/hello-go").read())
        found[platform] = path
    return found


def test_every_go_binary_matches_its_platform_only(hello_all, tmp_path):
    binaries = _go_binaries(hello_all["layout"], str(tmp_path))
    assert sorted(str(p) for p in binaries) == sorted(ALL8)
    for built_for, path in binaries.items():
        for platform in binaries:
            same_target = (built_for.architecture == platform.architecture)  # arm v6/v7 share EM_ARM
            if same_target:
                check_static_for(path, platform)
            else:
                with pytest.raises(BuildError, match=f"packed for {platform}"):
                    check_static_for(path, platform)


def test_static_and_static_pie_c_are_accepted(tmp_path):
    check_static_for(_cc(tmp_path, "static", "-static"), Platform.parse("linux/amd64"))
    pie = _cc(tmp_path, "spie", "-static-pie")
    info = check_static_for(pie, Platform.parse("linux/amd64"))
    assert info.elf_type == 3 and not info.interpreter and not info.needed


def test_dynamic_c_is_refused_naming_interpreter_and_libraries(tmp_path):
    path = _cc(tmp_path, "dynamic")
    with pytest.raises(BuildError) as err:
        check_static_for(path, Platform.parse("linux/amd64"))
    message = str(err.value)
    assert "dynamically linked" in message and "ld-linux-x86-64.so.2" in message and "libc.so.6" in message
    assert "cc -static" in message


def test_arm64_offered_as_amd64(tmp_path):
    path = _cc(tmp_path, "arm64", "-static", compiler="aarch64-linux-gnu-gcc")
    with pytest.raises(BuildError, match=r"AArch64 \(arm64\).*packed for linux/amd64"):
        check_static_for(path, Platform.parse("linux/amd64"))
    check_static_for(path, Platform.parse("linux/arm64"))


def test_build_info_read_from_the_binary_matches_go_version_m(tmp_path):
    """The Go build info pyko reads straight from a binary (for its SBOM) is what the real
    `go version -m` prints, on the Go toolchain's own binary (moved here from the unit tier: it needs Go)."""
    from pyko.toolchains import go

    toolchain = go.find_go(os.environ)  # PATH may hold a launcher script: ask it where the real go is
    env = {**os.environ, **toolchain.env}
    goroot = subprocess.run([toolchain.go, "env", "GOROOT"], capture_output=True, text=True, env=env).stdout
    real = os.path.join(goroot.strip(), "bin", "go")
    printed = subprocess.run([real, "version", "-m", real], capture_output=True, text=True, check=True,
                             env=env).stdout
    found = go.read_build_info(real)
    assert found is not None
    version, embedded = found
    assert printed.splitlines()[0].endswith(f": {version}") and version.startswith("go1.")
    assert [line.strip() for line in printed.splitlines()[1:]] == [line for line in embedded.splitlines() if line]
    not_go = tmp_path / "not-go"
    not_go.write_bytes(b"\x7fELF" + bytes(100))
    assert go.read_build_info(str(not_go)) is None  # then `go version -m` is asked, as before
