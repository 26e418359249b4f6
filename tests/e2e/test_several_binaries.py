"""Several binaries in one image, from one [[builds]] entry: a layer each, all on PATH, kodata
merged (a conflict is an error), the command chosen; both binaries run from the unpacked image."""
import os
import shutil
import subprocess

import pytest

from oci_tools import REPO, assert_clean_error, need, need_root, pyko, run, skopeo_config, skopeo_raw, unpack

CONFIG = """
[[builds]]
id = "suite"
mains = ["./cmd/server", "./cmd/cli"]
name = "suite"
cmd = "{cmd}"
args = ["--listen", ":8080"]
"""


@pytest.fixture
def module(tmp_path):
    dest = tmp_path / "multi"
    shutil.copytree(os.path.join(REPO, "testdata", "multi-go"), dest)
    return dest


def _run(bundle, arch, *command):
    args = list(command)
    if arch == "arm64":
        shutil.copy(shutil.which("qemu-aarch64-static"), os.path.join(bundle.rootfs, "qemu"))
        args = ["/qemu"] + args
    user = bundle.process["user"]
    proc = subprocess.run(["env", "-i", *bundle.process["env"], "chroot", f"--userspec={user['uid']}:{user['gid']}",
                           bundle.rootfs, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_two_mains_one_image_two_platforms(module, session_env, tmp_path):
    need("skopeo", "umoci")
    (module / ".pyko.toml").write_text(CONFIG.format(cmd="server"))
    layout = tmp_path / "layout"
    proc = pyko("build", "--platform", "linux/amd64,linux/arm64", "--oci-layout", str(layout), cwd=str(module),
                env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("suite@sha256:")
    for arch in ("amd64", "arm64"):
        config = skopeo_config(f"oci:{layout}:suite:latest", arch=arch)
        assert config["config"]["Cmd"] == ["/ko-app/server", "--listen", ":8080"]
        comments = [h.get("comment", "") for h in config["history"]]
        assert comments[-3:] == ["kodata contents, at /var/run/ko", "binary, at /ko-app/server",
                                 "binary, at /ko-app/cli"]  # one layer per binary
    need_root()
    for arch in ("amd64", "arm64"):
        single = str(tmp_path / f"one-{arch}")
        run(["skopeo", "--override-arch", arch, "copy", f"oci:{layout}:suite:latest", f"oci:{single}:app"])
        bundle = unpack(f"{single}:app", str(tmp_path / f"bundle-{arch}"))
        server = _run(bundle, arch, *bundle.process["args"])
        assert 'server: uid=65532 args=["--listen" ":8080"] shared=the same in both own=server\'s own' in server
        cli = _run(bundle, arch, "/ko-app/cli")
        assert "server-on-path=/ko-app/server err=<nil>" in cli
        assert os.path.exists(os.path.join(bundle.rootfs, "var", "run", "ko", "cli.txt"))


def test_conflicting_kodata_and_a_command_that_is_not_there(module, session_env, tmp_path):
    (module / ".pyko.toml").write_text(CONFIG.format(cmd="nope"))
    proc = pyko("build", "--oci-layout", str(tmp_path / "a"), cwd=str(module), env=session_env)
    assert_clean_error(proc, "cmd = 'nope' names none of the image's binaries (server, cli)")
    (module / ".pyko.toml").write_text(CONFIG.format(cmd="cli"))
    (module / "cmd" / "cli" / "kodata" / "shared.txt").write_text("not the same\n")
    proc = pyko("build", "--oci-layout", str(tmp_path / "b"), cwd=str(module), env=session_env)
    assert_clean_error(proc, "/var/run/ko/shared.txt differs between")
    assert "building" not in proc.stderr  # checked before compiling
    assert not (tmp_path / "b").exists()
    (module / "cmd" / "cli" / "kodata" / "shared.txt").write_text("the same in both\n")
    proc = pyko("build", "--oci-layout", str(tmp_path / "c"), cwd=str(module), env=session_env)
    assert proc.returncode == 0, proc.stderr
    assert skopeo_raw(f"oci:{tmp_path / 'c'}:suite:latest")["manifests"][0]["platform"]["os"] == "linux"
    assert skopeo_config(f"oci:{tmp_path / 'c'}:suite:latest")["config"]["Cmd"][0] == "/ko-app/cli"
