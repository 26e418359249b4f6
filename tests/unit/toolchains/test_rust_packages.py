"""The crates of a Rust binary: feature flags passed on, dev dependencies left out, the root first,
Cargo.lock's checksums, and cargo-auditable's embedded list read back from an ELF section."""
import json
import shutil
import subprocess
import zlib

import pytest

from pyko.toolchains.elf import read_section
from pyko.toolchains.rust_packages import _walk, auditable_inventory, feature_flags


def test_feature_flags_are_the_builds():
    flags = ["--locked", "--features", "tls,json", "-F", "x", "--features=y", "--no-default-features", "-j", "2"]
    assert feature_flags(flags) == ["--features", "tls,json", "-F", "x", "--features=y", "--no-default-features"]


def test_the_graph_is_walked_over_normal_and_build_dependencies(tmp_path):
    (tmp_path / "Cargo.toml").write_text("")
    pkg = lambda name, source=None: {"id": f"{name}-id", "name": name, "version": "1.0.0",  # noqa: E731
                                     "source": source, "manifest_path": str(tmp_path / name / "Cargo.toml")}
    root = dict(pkg("app"), manifest_path=str(tmp_path / "Cargo.toml"))
    registry = "registry+https://github.com/rust-lang/crates.io-index"
    meta = {"packages": [root, pkg("serde", registry), pkg("cc", registry), pkg("proptest", registry),
                         pkg("mine", "git+https://example.com/mine#abc")],
            "resolve": {"nodes": [
                {"id": "app-id", "deps": [{"pkg": "serde-id", "dep_kinds": [{"kind": None}]},
                                          {"pkg": "cc-id", "dep_kinds": [{"kind": "build"}]},
                                          {"pkg": "proptest-id", "dep_kinds": [{"kind": "dev"}]},
                                          {"pkg": "mine-id", "dep_kinds": [{"kind": None}]}]}]}}
    packages = _walk(meta, str(tmp_path), {("serde", "1.0.0"): "ab" * 32})
    assert [p.name for p in packages] == ["app", "cc", "mine", "serde"]
    assert packages[0].purpose == "APPLICATION" and packages[3].sha256 == "ab" * 32
    assert packages[2].comment == "from git+https://example.com/mine"


def test_the_auditable_section_is_read_back(tmp_path):
    objcopy = shutil.which("objcopy")
    if not objcopy:
        pytest.skip("needs objcopy (binutils) to make a test binary with the section")
    data = {"packages": [{"name": "app", "version": "0.1.0", "source": "local", "root": True, "dependencies": [1]},
                         {"name": "itoa", "version": "1.0.19", "source": "crates.io"}]}
    (tmp_path / "section").write_bytes(zlib.compress(json.dumps(data).encode()))
    binary = tmp_path / "bin"
    subprocess.run([objcopy, "--add-section", f".dep-v0={tmp_path / 'section'}", shutil.which("true"), str(binary)],
                   check=True)
    assert zlib.decompress(read_section(str(binary), ".dep-v0")) == json.dumps(data).encode()
    inventory = auditable_inventory(str(binary), {("itoa", "1.0.19"): "cd" * 32})
    assert [(p.name, p.purl, p.sha256) for p in inventory.packages] == [
        ("app", "pkg:cargo/app@0.1.0", ""), ("itoa", "pkg:cargo/itoa@1.0.19", "cd" * 32)]
    assert auditable_inventory(shutil.which("true"), {}) is None  # no section: ask cargo instead
    assert read_section(str(tmp_path / "section"), ".dep-v0") == b""  # not ELF: nothing
