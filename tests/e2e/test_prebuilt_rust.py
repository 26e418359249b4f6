"""Rust crates and prebuilt C binaries, end to end: built, packed, unpacked by umoci, run."""
import os
import shutil

import pytest

from oci_tools import REPO, assert_clean_error, need, need_root, pyko, skopeo_config, unpack_and_run

HELLO_C = os.path.join(REPO, "testdata", "hello-c", "hello.c")  # also built by conftest.c_binaries
HELLO_RUST = os.path.join(REPO, "testdata", "hello-rust")


def test_c_binaries_packed_and_run_on_both_arches(session_env, c_binaries, tmp_path):
    need("skopeo", "umoci")
    need_root()
    layout = str(tmp_path / "layout")
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}",
                "--binary", f"linux/arm64={c_binaries['linux/arm64']}", "--name", "hello-c",
                "--oci-layout", layout, env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("hello-c@sha256:")
    for arch in ("amd64", "arm64"):
        out = unpack_and_run(f"oci:{layout}:hello-c:latest", arch, str(tmp_path))
        assert "Hello from C! uid=65532 gid=65532" in out and "passwd: has nonroot" in out
        assert skopeo_config(f"oci:{layout}:hello-c:latest", arch)["config"]["Cmd"] == ["/ko-app/hello-c"]


@pytest.mark.parametrize("case", ["dynamic", "arm64-as-amd64", "text-file"])
def test_prebuilt_refusals(session_env, c_binaries, tmp_path, case):
    path = {"dynamic": c_binaries["dynamic"], "arm64-as-amd64": c_binaries["linux/arm64"],
            "text-file": HELLO_C}[case]
    layout = tmp_path / "layout"
    proc = pyko("build", "--binary", f"linux/amd64={path}", "--name", "x", "--oci-layout", str(layout),
                env=session_env)
    expected = {"dynamic": "is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2; libraries libc.so.6)",
                "arm64-as-amd64": "AArch64 (arm64), 64-bit little-endian, but it is packed for linux/amd64",
                "text-file": "is not an ELF executable"}[case]
    assert_clean_error(proc, expected)
    assert not layout.exists()


def test_binary_needs_name_and_no_platform_flag(session_env, c_binaries):
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", env=session_env)
    assert_clean_error(proc, "--binary needs --name")
    proc = pyko("build", "--binary", f"linux/amd64={c_binaries['linux/amd64']}", "--name", "x",
                "--platform", "linux/arm64", env=session_env)
    assert_clean_error(proc, "--platform cannot be used with prebuilt binaries")


@pytest.fixture(scope="session")
def rust_src(tmp_path_factory):
    if not shutil.which("cargo"):
        pytest.skip("needs cargo (rustup)")
    dest = tmp_path_factory.mktemp("rust") / "hello-rust"
    shutil.copytree(HELLO_RUST, dest, ignore=shutil.ignore_patterns("target"))
    return str(dest)


def test_rust_static_glibc_image_runs_as_nonroot(session_env, rust_src, tmp_path):
    need("skopeo", "umoci")
    need_root()
    layout = str(tmp_path / "layout")
    proc = pyko("build", rust_src, "--platform", "linux/amd64", "--rust-libc", "gnu", "--oci-layout", layout,
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    out = unpack_and_run(f"oci:{layout}:hello-rust:latest", "amd64", str(tmp_path))
    assert "Hello from Rust! (linux/x86_64)" in out
    assert "uid=65532 gid=65532" in out and "passwd: has nonroot" in out
    assert "kodata: ok Greetings from Rust's kodata." in out


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_without_its_musl_standard_library_pyko_says_how_to_add_it(session_env, rust_src, tmp_path, platform):
    """rustup's toolchain here has no musl target: one line names the exact rustup command.
    (The musl builds themselves, with a toolchain that has one, are in test_rust_crates.py.)"""
    from pyko.platforms import Platform, rust_triple

    triple = rust_triple(Platform.parse(platform))
    rustup_rustc = os.path.join(os.path.expanduser("~"), ".cargo", "bin", "rustc")
    env = dict(session_env, RUSTC=rustup_rustc) if os.access(rustup_rustc, os.X_OK) else session_env
    proc = pyko("build", rust_src, "--platform", platform, "--oci-layout", str(tmp_path / "out"), env=env)
    assert_clean_error(proc, f"rustup target add {triple}")
    assert not (tmp_path / "out").exists()


def test_crate_with_several_binaries_needs_bin(session_env, tmp_path):
    if not shutil.which("cargo"):
        pytest.skip("needs cargo")
    crate = tmp_path / "multi"
    (crate / "src" / "bin").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "multi"\nversion = "0.1.0"\nedition = "2021"\n')
    for name in ("one", "two"):
        (crate / "src" / "bin" / f"{name}.rs").write_text(f'fn main() {{ println!("{name}"); }}\n')
    proc = pyko("build", str(crate), "--platform", "linux/amd64", "--rust-libc", "gnu", env=session_env)
    assert_clean_error(proc, "several binaries (one, two)", "--bin NAME")
    proc = pyko("build", str(crate), "--platform", "linux/amd64", "--rust-libc", "gnu", "--bin", "two",
                "--name", "two", env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("two@sha256:")


def test_workspace_member(session_env, rust_src, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copytree(rust_src, ws / "app")
    (ws / "app" / "Cargo.lock").unlink()
    (ws / "Cargo.toml").write_text('[workspace]\nmembers = ["app"]\nresolver = "2"\n')
    proc = pyko("build", str(ws / "app"), "--platform", "linux/amd64", "--rust-libc", "gnu", env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert os.path.isdir(ws / "target" / "pyko" / "x86_64-unknown-linux-gnu")  # the workspace's target dir
    proc = pyko("build", str(ws), "--platform", "linux/amd64", env=session_env)
    assert_clean_error(proc, "virtual workspace")


def test_prebuilt_binaries_from_builds_entry(session_env, c_binaries, tmp_path):
    need("skopeo")
    project = tmp_path / "project"
    (project / "out").mkdir(parents=True)
    shutil.copy(c_binaries["linux/amd64"], project / "out" / "hello-amd64")
    shutil.copy(c_binaries["linux/arm64"], project / "out" / "hello-arm64")
    (project / ".pyko.toml").write_text(
        '[[builds]]\nid = "c"\nname = "hello-c"\n'
        'binaries = { "linux/amd64" = "out/hello-amd64", "linux/arm64" = "out/hello-arm64" }\n')
    layout = str(tmp_path / "layout")
    proc = pyko("build", "--oci-layout", layout, cwd=str(project), env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("hello-c@sha256:")
    assert skopeo_config(f"oci:{layout}:hello-c:latest", "arm64")["architecture"] == "arm64"
