"""Real local engines for the --local tests, started by the suite as root:
Debian's dockerd (vfs storage, no iptables or bridge, its own containerd) on a
private socket, and podman with a private vfs store and runc."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest


@dataclass
class Dockerd:
    socket: str
    process: subprocess.Popen
    log: str

    @property
    def env(self) -> dict:
        return {"DOCKER_HOST": f"unix://{self.socket}"}

    def docker(self, *args, timeout=120) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_dockerd(directory: str) -> Dockerd:
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    for tool in ("dockerd", "containerd", "docker", "runc"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool} (Debian's docker.io; .ci/install-deps installs it)")
    socket = os.path.join(directory, "docker.sock")
    log = os.path.join(directory, "dockerd.log")
    args = ["dockerd", "--storage-driver", "vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--data-root", os.path.join(directory, "data"), "--exec-root", os.path.join(directory, "exec"),
            "--pidfile", os.path.join(directory, "dockerd.pid"), "-H", f"unix://{socket}"]
    with open(log, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    engine = Dockerd(socket, proc, log)
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        if os.path.exists(socket) and engine.docker("version", timeout=10).returncode == 0:
            return engine
        time.sleep(0.3)
    engine.stop()
    with open(log) as f:
        tail = f.read()[-1500:]
    pytest.skip(f"dockerd could not start on this machine:\n{tail}")


@dataclass
class Podman:
    env: dict

    def podman(self, *args, timeout=120) -> subprocess.CompletedProcess:
        return subprocess.run(["podman", *args], env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=timeout)

    def run(self, image: str) -> subprocess.CompletedProcess:
        # runc may not raise rlimits in this sandbox: give ones it needs no privilege for.
        return self.podman("run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024",
                           "--ulimit", "nproc=1024:1024", image)


def podman_in(directory: str) -> Podman:
    if os.geteuid() != 0:
        pytest.skip("the podman tests run it rootful")
    for tool in ("podman", "runc", "conmon"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool} (Debian's podman; .ci/install-deps installs it)")
    storage, conf = os.path.join(directory, "storage.conf"), os.path.join(directory, "containers.conf")
    with open(storage, "w") as f:
        f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{directory}/graph"\nrunroot = "{directory}/run"\n')
    with open(conf, "w") as f:
        f.write('[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n')
    engine = Podman({"CONTAINERS_STORAGE_CONF": storage, "CONTAINERS_CONF": conf})
    probe = engine.podman("info")
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run on this machine: {probe.stderr.strip()[-500:]}")
    return engine
