"""The local engines --local loads into: which one is chosen, and the Docker Engine API
spoken over a unix socket (a fake engine here; tests/e2e/test_local_engines.py uses real ones)."""
import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from pyko.errors import OutputError, UsageError
from pyko.transport.engines import Cli, DockerApi, find_engine


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake_docker(tmp_path):
    """A Docker Engine API on a unix socket: /_ping, /info, /images/load. It records the loads."""
    state = {"loads": [], "containerd": False, "refuse": False}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def address_string(self):
            return "unix"

        def _reply(self, status, body):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_ping":
                return self._reply(200, b"OK")
            driver = "io.containerd.snapshotter.v1" if state["containerd"] else "overlay2"
            return self._reply(200, {"DriverStatus": [["driver-type", driver]]})

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["loads"].append((self.path, self.headers["Content-Type"], len(body)))
            if state["refuse"]:
                return self._reply(200, b'{"errorDetail":{"message":"no space"},"error":"no space left\\u001b[2J"}\n')
            return self._reply(200, b'{"stream":"Loaded image: pyko.local/app:latest\\n"}\n')

    path = str(tmp_path / "docker.sock")
    server = _UnixHTTPServer(path, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path, state
    server.shutdown()


def test_docker_api_ping_store_and_load(fake_docker, tmp_path):
    path, state = fake_docker
    engine = find_engine("auto", {"DOCKER_HOST": f"unix://{path}"})
    assert isinstance(engine, DockerApi)
    engine.check()
    assert not engine.holds_indexes()
    state["containerd"] = True
    assert engine.holds_indexes()
    archive = tmp_path / "a.tar"
    archive.write_bytes(b"x" * 5000)
    engine.load(str(archive))
    assert state["loads"] == [("/images/load?quiet=1", "application/x-tar", 5000)]
    state["refuse"] = True
    with pytest.raises(OutputError, match=r"refused the image: no space left\?\[2J"):  # control characters cleaned
        engine.load(str(archive))


def test_an_engine_that_is_not_there_is_one_clear_error(tmp_path):
    engine = find_engine("docker", {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    with pytest.raises(OutputError, match="cannot reach the Docker engine at unix://.*is dockerd running"):
        engine.check()


def test_choosing_the_engine(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("podman", "docker"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        os.chmod(bin_dir / name, 0o755)
    monkeypatch.setattr("pyko.transport.engines.DEFAULT_DOCKER_SOCKET", str(tmp_path / "absent.sock"))
    env = {"PATH": str(bin_dir)}
    assert find_engine("auto", env).name == "podman"       # no docker socket: podman first
    assert isinstance(find_engine("podman", env), Cli)
    assert find_engine("auto", {**env, "DOCKER_HOST": "tcp://127.0.0.1:2375"}).tcp == "127.0.0.1:2375"
    remote = find_engine("auto", {**env, "DOCKER_HOST": "ssh://me@build-host"})
    assert isinstance(remote, Cli) and remote.name == "docker"  # ssh and TLS go through the docker CLI
    (bin_dir / "podman").unlink()
    assert find_engine("auto", env).name == "docker"
    with pytest.raises(UsageError, match="no local container engine found"):
        find_engine("auto", {"PATH": str(tmp_path / "empty")})
    with pytest.raises(UsageError, match="podman is not installed"):
        find_engine("podman", {"PATH": str(tmp_path / "empty")})
