"""Rust target mapping and the missing-target message, for every platform."""
import pytest

from pyko.errors import BuildError
from pyko.platforms import Platform, rust_triple
from pyko.toolchains import rust

from oci_tools import ALL8

MUSL = {"linux/amd64": "x86_64-unknown-linux-musl", "linux/386": "i686-unknown-linux-musl",
        "linux/arm64": "aarch64-unknown-linux-musl", "linux/arm/v6": "arm-unknown-linux-musleabihf",
        "linux/arm/v7": "armv7-unknown-linux-musleabihf", "linux/ppc64le": "powerpc64le-unknown-linux-musl",
        "linux/riscv64": "riscv64gc-unknown-linux-musl", "linux/s390x": "s390x-unknown-linux-musl"}
GNU = {"linux/amd64": "x86_64-unknown-linux-gnu", "linux/386": "i686-unknown-linux-gnu",
       "linux/arm64": "aarch64-unknown-linux-gnu", "linux/arm/v6": "arm-unknown-linux-gnueabihf",
       "linux/arm/v7": "armv7-unknown-linux-gnueabihf", "linux/ppc64le": "powerpc64le-unknown-linux-gnu",
       "linux/riscv64": "riscv64gc-unknown-linux-gnu", "linux/s390x": "s390x-unknown-linux-gnu"}


@pytest.mark.parametrize("platform", ALL8)
def test_triples(platform):
    assert rust_triple(Platform.parse(platform)) == MUSL[platform]
    assert rust_triple(Platform.parse(platform), "gnu") == GNU[platform]


@pytest.mark.parametrize("platform", ALL8)
@pytest.mark.parametrize("libc", ["musl", "gnu"])
def test_missing_target_says_how_to_fix(platform, libc, tmp_path, monkeypatch):
    monkeypatch.setattr(rust, "_rustc_says", lambda rustc, environ, *args: str(tmp_path))  # an empty sysroot
    triple = rust_triple(Platform.parse(platform), libc)
    with pytest.raises(BuildError) as err:
        rust.check_target_installed(triple, libc, {"PATH": ""})
    assert f"run `rustup target add {triple}`" in str(err.value)
    assert f"--rust-libc {'gnu' if libc == 'musl' else 'musl'}" in str(err.value)
    (tmp_path / "lib" / "rustlib" / triple / "lib").mkdir(parents=True)
    rust.check_target_installed(triple, libc, {"PATH": ""})  # installed: no error


def test_crt_static_respects_user_flags():
    triple = "aarch64-unknown-linux-gnu"
    key = "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS"
    assert rust.build_env(triple, "gnu", {})[key] == "-C target-feature=+crt-static"
    assert rust.build_env(triple, "gnu", {key: "-C opt-level=s"})[key] == "-C opt-level=s -C target-feature=+crt-static"
    env = rust.build_env(triple, "gnu", {"RUSTFLAGS": "-C lto"})
    assert env["RUSTFLAGS"] == "-C lto -C target-feature=+crt-static" and key not in env
    assert key not in rust.build_env(triple, "musl", {})  # musl is static already
