"""Rust for real crates, end to end: named after the binary, an SBOM of exactly the crates
compiled for the target (from a fresh CARGO_HOME, as on a new CI runner), auditable binaries,
an amd64 + arm64 build that runs, a workspace of two binaries, and an honest SBOM when cargo
cannot say what went in."""
import json
import os
import shutil
import subprocess
import tarfile
import zlib

import pytest

from oci_tools import REPO, assert_clean_error, need, need_root, pyko, skopeo_config, skopeo_raw, unpack_and_run

RUST_DEPS = os.path.join(REPO, "testdata", "rust-deps")
CROSS = os.path.join(REPO, ".ci", "rust-cross", "toolchain", "usr")
AUDITABLE = os.path.join(REPO, ".ci", "cargo-tools", "bin")
MUSL = os.path.join(REPO, ".ci", "rust-cross", "musl")
TRIPLE = "x86_64-unknown-linux-gnu"


@pytest.fixture
def crate(tmp_path):
    if not shutil.which("cargo"):
        pytest.skip("needs cargo (rustup)")
    dest = tmp_path / "app"  # the directory's name is not the crate's binary (realdeps)
    shutil.copytree(RUST_DEPS, dest, ignore=shutil.ignore_patterns("target"))
    return dest


@pytest.fixture
def fresh(session_env, tmp_path):
    """A new runner's cargo: an empty CARGO_HOME, so cargo downloads only what the build compiles."""
    return dict(session_env, CARGO_HOME=str(tmp_path / "cargo-home"), PYKO_CACHE_DIR=str(tmp_path / "cache"))


def _tree(crate_dir, env, triple=TRIPLE):
    """`cargo tree -e normal,build --target T`: the crates compiled in, as (name, version)."""
    out = subprocess.run(["cargo", "tree", "--offline", "-e", "normal,build", "--target", triple, "--prefix", "none",
                          "--format", "{p}"], cwd=crate_dir, env=env, capture_output=True, text=True, check=True)
    found = set()
    for line in out.stdout.splitlines():
        name, version = line.split()[:2]
        found.add((name, version.lstrip("v")))
    return found


def _crates(sbom_file):
    doc = json.loads(open(sbom_file).read())
    return doc, {(p["name"], p["versionInfo"]) for p in doc["packages"]
                 if any(r["referenceLocator"].startswith("pkg:cargo/") for r in p.get("externalRefs", []))}


def _validate(path):
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    assert validate_full_spdx_document(parse_file(str(path))) == []


def test_named_after_its_binary_with_every_compiled_crate_in_its_sbom(crate, fresh, tmp_path):
    need("skopeo")
    layout, sboms = tmp_path / "layout", tmp_path / "sboms"
    proc = pyko("build", ".", "--platform", "linux/amd64", "--rust-libc", "gnu", "--rust-builder", "cargo",
                "--oci-layout", str(layout), "--sbom-dir", str(sboms), cwd=str(crate), env=fresh)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("realdeps@sha256:") and "warning" not in proc.stderr
    assert skopeo_config(f"oci:{layout}:realdeps:latest")["config"]["Cmd"] == ["/ko-app/realdeps"]
    doc, crates = _crates(sboms / "realdeps-linux-amd64.spdx.json")
    compiled = _tree(crate, fresh)
    assert crates == compiled and len(compiled) == 7  # realdeps, anyhow, serde_json and its 4 deps
    assert ("proc-macro2", "1.0.107") not in crates  # in Cargo.lock, never compiled for this target
    serde_json = next(p for p in doc["packages"] if p["name"] == "serde_json")
    lock = open(crate / "Cargo.lock").read()
    checksum = serde_json["checksums"][0]["checksumValue"]
    assert f'name = "serde_json"\nversion = "{serde_json["versionInfo"]}"' in lock and checksum in lock
    _validate(sboms / "realdeps-linux-amd64.spdx.json")


def _binary_from(layout, tmp_path, name="realdeps"):
    """The binary, extracted from the image's last layer."""
    index = skopeo_raw(f"oci:{layout}:{name}:latest")
    manifest = json.loads((layout / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    blob = layout / "blobs" / "sha256" / manifest["layers"][-1]["digest"][7:]
    with tarfile.open(blob) as tar:
        tar.extract(f"ko-app/{name}", tmp_path / "extracted")
    return tmp_path / "extracted" / "ko-app" / name


def test_auditable_binary_carries_its_crates(crate, fresh, tmp_path):
    need("skopeo", "objcopy")
    if not os.path.exists(os.path.join(AUDITABLE, "cargo-auditable")):
        pytest.skip("needs cargo-auditable (.ci/install-deps installs it into .ci/cargo-tools)")
    env = dict(fresh, PATH=f"{AUDITABLE}:{fresh['PATH']}")
    layout, sboms = tmp_path / "layout", tmp_path / "sboms"
    proc = pyko("build", ".", "--platform", "linux/amd64", "--rust-libc", "gnu", "--oci-layout", str(layout),
                "--sbom-dir", str(sboms), cwd=str(crate), env=env)  # auto: cargo-auditable is installed
    assert proc.returncode == 0, proc.stderr
    binary = _binary_from(layout, tmp_path)
    section = tmp_path / "dep-v0"
    subprocess.run(["objcopy", "--dump-section", f".dep-v0={section}", str(binary), str(tmp_path / "copy")],
                   check=True, capture_output=True)  # binutils reads the section, not pyko
    embedded = json.loads(zlib.decompress(section.read_bytes()))
    assert {(p["name"], p["version"]) for p in embedded["packages"]} == _tree(crate, env)
    assert _crates(sboms / "realdeps-linux-amd64.spdx.json")[1] == _tree(crate, env)


def test_amd64_and_arm64_from_one_build_both_run(crate, fresh, tmp_path):
    need("skopeo", "umoci", "aarch64-linux-gnu-gcc")
    if not os.path.exists(os.path.join(CROSS, "lib", "rustlib", "aarch64-unknown-linux-gnu")):
        pytest.skip("needs the aarch64 Rust toolchain (.ci/rust-cross-toolchain, run by .ci/install-deps)")
    env = dict(fresh, RUSTC=os.path.join(CROSS, "bin", "rustc"),
               LD_LIBRARY_PATH=os.path.join(CROSS, "lib", "x86_64-linux-gnu"))
    layout = tmp_path / "layout"
    args = ["build", ".", "--platform", "linux/amd64,linux/arm64", "--rust-libc", "gnu", "--rust-builder", "cargo",
            "--oci-layout", str(layout), "--sbom-dir", str(tmp_path / "sboms")]
    missing = pyko(*args, cwd=str(crate), env=env)
    assert_clean_error(missing, "no linker for aarch64-unknown-linux-gnu",
                       "set CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER")
    env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"] = "aarch64-linux-gnu-gcc"
    proc = pyko(*args, cwd=str(crate), env=env)
    assert proc.returncode == 0, proc.stderr
    arm_crates = _crates(tmp_path / "sboms" / "realdeps-linux-arm64.spdx.json")[1]
    assert arm_crates == _tree(crate, env, "aarch64-unknown-linux-gnu")
    need_root()
    for arch, machine in (("amd64", "x86_64"), ("arm64", "aarch64")):
        out = unpack_and_run(f"oci:{layout}:realdeps:latest", arch, str(tmp_path / arch))
        assert f"hello from a crate with dependencies (linux/{machine}) kodata=kodata of realdeps" in out


def test_workspace_of_two_binaries_gives_an_image_each(session_env, tmp_path):
    need("skopeo")
    if not shutil.which("cargo"):
        pytest.skip("needs cargo (rustup)")
    ws = tmp_path / "ws"
    for member, binary in (("first", "alpha"), ("second", "beta")):
        (ws / member / "src").mkdir(parents=True)
        (ws / member / "Cargo.toml").write_text(f'[package]\nname = "{member}"\nversion = "0.1.0"\nedition = "2021"\n'
                                                f'\n[[bin]]\nname = "{binary}"\npath = "src/main.rs"\n')
        (ws / member / "src" / "main.rs").write_text(f'fn main() {{ println!("{binary}"); }}\n')
    (ws / "Cargo.toml").write_text('[workspace]\nmembers = ["first", "second"]\nresolver = "2"\n')
    layout = tmp_path / "layout"
    proc = pyko("build", str(ws / "first"), str(ws / "second"), "--platform", "linux/amd64", "--rust-libc", "gnu",
                "--rust-builder", "cargo", "--oci-layout", str(layout), env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert [line.split("@")[0] for line in proc.stdout.split()] == ["alpha", "beta"]
    for binary in ("alpha", "beta"):
        assert skopeo_config(f"oci:{layout}:{binary}:latest")["config"]["Cmd"] == [f"/ko-app/{binary}"]


def test_an_sbom_that_cannot_list_its_crates_fails_the_build_unless_partial_is_asked_for(crate, fresh, tmp_path):
    """A cargo whose `metadata` fails: by default no image is written and one line says why; with
    --sbom-partial the build works, the SBOM says NOASSERTION, stderr warns."""
    real = shutil.which("cargo")
    wrapper = tmp_path / "bin" / "cargo"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "--filter-platform" ] && '
                       f'{{ echo "error: no metadata today" >&2; exit 101; }}; done\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    env = dict(fresh, PATH=f"{wrapper.parent}:{fresh['PATH']}")
    sboms, layout = tmp_path / "sboms", tmp_path / "layout"
    args = ["build", ".", "--platform", "linux/amd64", "--rust-libc", "gnu", "--rust-builder", "cargo",
            "--sbom-dir", str(sboms), "--oci-layout", str(layout)]
    refused = pyko(*args, cwd=str(crate), env=env)
    assert_clean_error(refused, "cannot list what was compiled into realdeps", "no metadata today", "--sbom-partial")
    assert refused.returncode == 1 and not layout.exists() and not sboms.exists()
    proc = pyko(*args, "--sbom-partial", cwd=str(crate), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "warning: the SBOM of realdeps (linux/amd64) cannot list what was compiled into realdeps" in proc.stderr
    doc, crates = _crates(sboms / "realdeps-linux-amd64.spdx.json")
    assert crates == set()
    binary = next(p for p in doc["packages"] if p["name"] == "/ko-app/realdeps")
    assert "INCOMPLETE" in binary["comment"] and "no metadata today" in binary["comment"]
    assert {"spdxElementId": binary["SPDXID"], "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "NOASSERTION"} in doc["relationships"]
    _validate(sboms / "realdeps-linux-amd64.spdx.json")


def test_a_fresh_runner_and_a_warm_one_give_the_same_sbom(crate, fresh, tmp_path):
    """The crate has a dev-dependency that a release build never downloads (as ripgrep's do):
    from an empty CARGO_HOME the SBOM lists what cargo tree says, and a second, warm build the same."""
    sboms = [tmp_path / "fresh", tmp_path / "warm"]
    for where in sboms:
        proc = pyko("build", ".", "--platform", "linux/amd64", "--rust-libc", "gnu", "--rust-builder", "cargo",
                    "--sbom-dir", str(where), cwd=str(crate), env=fresh)
        assert proc.returncode == 0, proc.stderr
        assert "cargo-auditable is not installed" not in proc.stderr  # cargo was asked for, not auto
    first, again = (_crates(where / "realdeps-linux-amd64.spdx.json") for where in sboms)
    assert first[1] == again[1] == _tree(crate, fresh) and not any(name == "proc-macro2" for name, _ in first[1])
    binary = next(p for p in first[0]["packages"] if p["name"] == "/ko-app/realdeps")
    assert binary["comment"].startswith("packages from cargo metadata --filter-platform x86_64-unknown-linux-gnu")


def _musl_config():
    """docs/rust.md's musl configuration, its two prefixes pointed at the suite's toolchain."""
    with open(os.path.join(REPO, "docs", "rust.md")) as f:
        text = f.read()
    block = text.split("<!-- musl-example -->", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    return block.replace("/opt/rust", CROSS).replace("/opt/musl", MUSL)


def test_musl_images_for_amd64_and_arm64_build_run_and_are_described(crate, fresh, tmp_path):
    """A crate with crates.io dependencies, for both musl targets (the default libc), configured
    exactly as docs/rust.md shows: static binaries for the right machines, images that run as
    65532 (arm64 under qemu), SBOMs that list what cargo tree lists for each target, and
    provenance that names the triples and how the standard library was obtained."""
    need("skopeo", "umoci", "musl-gcc", "aarch64-linux-gnu-gcc")
    for triple in ("x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"):
        if not os.path.exists(os.path.join(MUSL, f"{triple}.done")):
            pytest.skip("needs the musl toolchain (.ci/rust-musl-toolchain, run by .ci/install-deps)")
    (crate / ".pyko.toml").write_text(_musl_config())
    keys = tmp_path / "keys"
    keys.mkdir()
    env = dict(fresh, COSIGN_PASSWORD="")
    assert pyko("generate-key-pair", "--output-key-prefix", str(keys / "k"), env=env).returncode == 0
    layout, sboms = tmp_path / "layout", tmp_path / "sboms"
    proc = pyko("build", "--rust-builder", "cargo", "--oci-layout", str(layout), "--sbom-dir", str(sboms),
                "--sign-key", str(keys / "k.key"), cwd=str(crate), env=env)
    assert proc.returncode == 0, proc.stderr
    tree_env = dict(fresh, RUSTC=os.path.join(CROSS, "bin", "rustc"),
                    LD_LIBRARY_PATH=os.path.join(CROSS, "lib", "x86_64-linux-gnu"))
    for arch, machine, triple in (("amd64", "x86_64", "x86_64-unknown-linux-musl"),
                                  ("arm64", "aarch64", "aarch64-unknown-linux-musl")):
        assert _crates(sboms / f"realdeps-linux-{arch}.spdx.json")[1] == _tree(crate, tree_env, triple)
        need_root()
        out = unpack_and_run(f"oci:{layout}:realdeps:latest", arch, str(tmp_path / arch))
        assert f"hello from a crate with dependencies (linux/{machine})" in out
    attested = pyko("verify-attestation", "--key", str(keys / "k.pub"), "--type", "slsaprovenance1",
                    "--oci-layout", str(layout), "realdeps:latest", env=env)
    assert attested.returncode == 0, attested.stderr
    binary = json.loads(attested.stdout.splitlines()[0])["predicate"]["buildDefinition"]["externalParameters"][
        "binaries"][0]
    assert binary["libc"] == "musl" and "x86_64-unknown-linux-musl" in binary["added"][1]
    assert "aarch64-unknown-linux-musl" in binary["added"][1]
    assert binary["standardLibrary"] == "installed in the toolchain's sysroot (rustc --print sysroot)"
    assert "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS" in binary["environment"]["values"]
