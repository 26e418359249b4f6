"""Checks of pyko's output by tools pyko did not write: skopeo, umoci,
oci-image-tool, runc, chroot and qemu-user-static."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Optional

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELLO_GO = os.path.join(REPO, "testdata", "hello-go")

# qemu-user-static binary per OCI architecture. 386 runs natively on x86_64
# (qemu-i386 crashes on Go binaries), as does amd64.
QEMU = {"arm64": "qemu-aarch64-static", "arm": "qemu-arm-static", "ppc64le": "qemu-ppc64le-static",
        "riscv64": "qemu-riscv64-static", "s390x": "qemu-s390x-static"}


ALL8 = ["linux/386", "linux/amd64", "linux/arm64", "linux/arm/v6", "linux/arm/v7",
        "linux/ppc64le", "linux/riscv64", "linux/s390x"]


def assert_clean_error(proc, *needles):
    """A failed run that ended in one `pyko: error:` line holding every needle."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("pyko: error: "), proc.stderr
    for needle in needles:
        assert needle in last, last
    return last


def need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run)")


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (chroot, umoci unpack with owners)")


def run(args: List[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a tool; its failure fails the test with the tool's own output."""
    proc = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def pyko(*args: str, cwd: Optional[str] = None, env: Optional[dict] = None,
         timeout: int = 900, input: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run the real CLI in a child process, as a user would."""
    return subprocess.run([sys.executable, "-m", "pyko", *args], cwd=cwd, env=env, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def _plain_http(transport_ref: str) -> list:
    """skopeo's flag for the suite's plain-HTTP loopback registries."""
    return ["--tls-verify=false"] if transport_ref.startswith("docker://127.") else []


def skopeo_raw(transport_ref: str) -> dict:
    return json.loads(run(["skopeo", "inspect", "--raw", *_plain_http(transport_ref), transport_ref]).stdout)


def skopeo_config(transport_ref: str, arch: str = "", variant: str = "") -> dict:
    args = ["skopeo"]
    if arch:
        args += ["--override-arch", arch]
    if variant:
        args += ["--override-variant", variant]
    return json.loads(run(args + ["inspect", "--config", *_plain_http(transport_ref), transport_ref]).stdout)


def copy_platform(src_ref: str, dest_layout: str, arch: str, variant: str = "") -> str:
    """skopeo copies one platform of an index out into its own layout (tag `app`)."""
    args = ["skopeo", "--override-os", "linux", "--override-arch", arch]
    if variant:
        args += ["--override-variant", variant]
    run(args + ["copy", src_ref, f"oci:{dest_layout}:app"])
    return f"{dest_layout}:app"


@dataclass
class Bundle:
    path: str
    rootfs: str
    process: dict  # the runtime spec's process, as umoci derived it from the image config


def unpack(image: str, bundle: str) -> Bundle:
    run(["umoci", "unpack", "--image", image, bundle])
    with open(os.path.join(bundle, "config.json")) as f:
        process = json.load(f)["process"]
    return Bundle(bundle, os.path.join(bundle, "rootfs"), process)


def run_in_rootfs(bundle: Bundle, arch: str) -> subprocess.CompletedProcess:
    """Run the image's command the way a runtime would: its user, its env, its
    args, chrooted into its rootfs; foreign arches through qemu copied inside."""
    user = bundle.process["user"]
    args = list(bundle.process["args"])
    if arch in QEMU:
        qemu = shutil.which(QEMU[arch])
        shutil.copy(qemu, os.path.join(bundle.rootfs, "qemu"))
        args = ["/qemu"] + args
    cmd = ["env", "-i", *bundle.process["env"], "chroot",
           f"--userspec={user['uid']}:{user['gid']}", bundle.rootfs, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def runc_run(bundle: Bundle, state_dir: str, name: str) -> subprocess.CompletedProcess:
    cfg_path = os.path.join(bundle.path, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run(["runc", "--root", state_dir, "run", "-b", bundle.path, name],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def unpack_and_run(layout_ref: str, arch: str, workdir: str, variant: str = "") -> str:
    """Copy one platform out of `layout_ref` (oci:DIR:REF), unpack it with umoci,
    run its command as the image says; returns stdout, fails on a non-zero exit."""
    os.makedirs(workdir, exist_ok=True)
    single = copy_platform(layout_ref, os.path.join(workdir, f"one-{arch}{variant}"), arch, variant)
    bundle = unpack(single, os.path.join(workdir, f"bundle-{arch}{variant}"))
    proc = run_in_rootfs(bundle, arch)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
