"""Local container engines that `--local` loads images into: Docker and Podman.

Docker is spoken to through its Engine API on DOCKER_HOST (unix:// or
loopback tcp://) or the default socket, with no docker CLI needed; for other
DOCKER_HOST forms (ssh://, TLS) the docker CLI's `docker load` is used, so its
contexts and TLS settings apply. Podman is driven by `podman load`, which
reads the user's containers.conf and storage.conf as always.

Both load the archive pyko writes for --tarball (an OCI layout plus docker's
manifest.json). Whether every platform lands depends on the engine's store:
Docker's containerd image store keeps the whole index; Docker's classic store
and Podman keep one image per name, so they get one platform (this machine's
when it was built).
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Mapping, NoReturn, Optional, Protocol, Tuple, Type, Union

from ..errors import OutputError, UsageError, clean_text
from ..reference import is_loopback
from ..util import children

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
MAX_API_ANSWER = 1 << 20
ENGINES = ("auto", "docker", "podman")


class Engine(Protocol):
    name: str

    def check(self) -> None:
        """Reach the engine now, before anything compiles."""

    def holds_indexes(self) -> bool:
        """Can its image store keep a multi-platform index under one name?"""

    def load(self, archive: str) -> None:
        """Load a `docker load` archive."""


# --- Docker -------------------------------------------------------------------------
class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


@dataclass
class DockerApi:
    """The Docker Engine API on a unix socket or a loopback TCP port (plain HTTP)."""

    socket_path: str = ""
    tcp: str = ""                      # host:port
    name: str = "docker"

    def _connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        if self.socket_path:
            return _UnixConnection(self.socket_path, timeout)
        return http.client.HTTPConnection(self.tcp, timeout=timeout)

    @property
    def where(self) -> str:
        return f"unix://{self.socket_path}" if self.socket_path else f"tcp://{self.tcp}"

    def _request(self, method: str, path: str, body: Union[bytes, BinaryIO, None] = None,
                 headers: Optional[Mapping[str, str]] = None, timeout: float = 30) -> Tuple[int, bytes]:
        conn = self._connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(MAX_API_ANSWER)
        except OSError as err:
            raise OutputError(f"cannot reach the Docker engine at {self.where}: {err.strerror or err} "
                              "(is dockerd running? set DOCKER_HOST, or use --local-engine podman)") from None
        finally:
            conn.close()

    def check(self) -> None:
        status, body = self._request("GET", "/_ping", timeout=10)
        if status != 200:
            raise OutputError(f"the Docker engine at {self.where} answered {status} to a ping: "
                              f"{clean_text(body[:200].decode('utf-8', 'replace'), 200)}")

    def holds_indexes(self) -> bool:
        status, body = self._request("GET", "/info")
        if status != 200:
            return False
        try:
            info = json.loads(body)
        except ValueError:
            return False
        driver_status = info.get("DriverStatus") if isinstance(info, dict) else None
        # The containerd image store reports driver-type io.containerd.snapshotter.v1.
        return any(isinstance(row, list) and len(row) == 2 and row[0] == "driver-type"
                   and str(row[1]).startswith("io.containerd.snapshotter") for row in driver_status or [])

    def load(self, archive: str) -> None:
        size = os.path.getsize(archive)
        with open(archive, "rb") as body:
            status, answer = self._request("POST", "/images/load?quiet=1", body=body, timeout=600, headers={
                "Content-Type": "application/x-tar", "Content-Length": str(size)})
        problem = _load_problem(status, answer)
        if problem:
            raise OutputError(f"the Docker engine at {self.where} refused the image: {problem}")


def _load_problem(status: int, answer: bytes) -> str:
    """The error in a /images/load answer (a stream of JSON lines), or ""."""
    text = answer.decode("utf-8", "replace")
    if status != 200:
        return clean_text(f"{status} {text}", 300)
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and (event.get("error") or event.get("errorDetail")):
            return clean_text(event.get("error") or event.get("errorDetail"), 300)
    return ""


@dataclass
class Cli:
    """An engine driven by its command line: `docker load` (contexts, ssh, TLS) or `podman load`."""

    name: str
    program: str
    environ: Mapping[str, str]

    def _run(self, *args: str, timeout: float = 600) -> str:
        try:
            proc = children.run([self.program, *args], env=dict(self.environ), text=True, timeout=timeout)
        except OSError as err:
            raise OutputError(f"cannot run {self.program}: {err.strerror or err}") from None
        if proc.returncode != 0:
            first = children.first_error_line(proc.stderr, f"exit {proc.returncode}")
            raise OutputError(f"`{self.name} {args[0]}` failed: {clean_text(first, 300)}")
        return str(proc.stdout)

    def check(self) -> None:
        self._run("version", timeout=60)

    def holds_indexes(self) -> bool:
        if self.name != "docker":
            return False
        info = self._run("info", "--format", "{{json .DriverStatus}}", timeout=60)
        return "io.containerd.snapshotter" in info

    def load(self, archive: str) -> None:
        self._run("load", "-q", "-i", archive)


def find_engine(choice: str, environ: Mapping[str, str]) -> Engine:
    """The engine --local loads into: the one asked for, else Docker when DOCKER_HOST is
    set or its socket exists, else Podman when it is installed, else the docker CLI."""
    if choice not in ENGINES:
        raise UsageError(f"--local-engine {choice!r}: use one of {', '.join(ENGINES)}")
    path = environ.get("PATH")
    if choice == "podman":
        return _podman(environ) or _fail("podman is not installed (or not on PATH)")
    if choice == "docker" or environ.get("DOCKER_HOST"):
        return _docker(environ)
    if os.path.exists(DEFAULT_DOCKER_SOCKET):
        return DockerApi(socket_path=DEFAULT_DOCKER_SOCKET)
    podman = _podman(environ)
    if podman:
        return podman
    docker_cli = shutil.which("docker", path=path)
    if docker_cli:
        return Cli("docker", docker_cli, environ)
    return _fail("no local container engine found: start Docker (or set DOCKER_HOST), or install Podman")


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


def _podman(environ: Mapping[str, str]) -> Optional[Engine]:
    program = shutil.which(environ.get("PYKO_PODMAN", "podman"), path=environ.get("PATH"))
    return Cli("podman", program, environ) if program else None


def _docker(environ: Mapping[str, str]) -> Engine:
    host = environ.get("DOCKER_HOST", "")
    if not host:
        return DockerApi(socket_path=DEFAULT_DOCKER_SOCKET)
    parts = urllib.parse.urlsplit(host)
    tls = environ.get("DOCKER_TLS_VERIFY") or environ.get("DOCKER_TLS")
    if parts.scheme == "unix" and parts.path:
        return DockerApi(socket_path=parts.path)
    if parts.scheme == "tcp" and parts.hostname and is_loopback(parts.hostname) and not tls:
        return DockerApi(tcp=parts.netloc)
    cli = shutil.which("docker", path=environ.get("PATH"))
    if not cli:
        raise UsageError(f"DOCKER_HOST={clean_text(host, 80)} needs the docker CLI (for its TLS or ssh "
                         "settings), which is not on PATH")
    return Cli("docker", cli, environ)

if TYPE_CHECKING:   # each implementation checked against its protocol (as ggcr's `var _ I = (*T)(nil)`)
    _api: Type[Engine] = DockerApi
    _cli: Type[Engine] = Cli

