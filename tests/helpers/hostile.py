"""A hostile fake registry: it answers what a real registry never would
(traversal digests, endless bodies, foreign Locations, escape sequences),
so the tests can check that pyko refuses it cleanly and stays bounded."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Seen:
    def __init__(self, method: str, path: str, headers: Dict[str, str]):
        self.method, self.path, self.headers = method, path, headers


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "FakeServer"

    def log_message(self, *args):
        pass

    def _any(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.fake.seen.append(Seen(self.command, self.path, dict(self.headers)))
        for method, pattern, route in self.server.fake.routes:
            if method == self.command and re.fullmatch(pattern, self.path.split("?", 1)[0]):
                return route(self)
        self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such thing"}]})

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _any

    def reply(self, status: int, body=b"", headers: Optional[Dict[str, str]] = None, media_type: str = ""):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if media_type:
            self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, status: int, size: int, headers: Optional[Dict[str, str]] = None):
        """`size` bytes of zeros, written a MiB at a time: never held in the fake's memory."""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # pyko stopped reading, as it should


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True


class FakeRegistry:
    def __init__(self):
        self.routes: List[Tuple[str, str, Route]] = []
        self.seen: List[Seen] = []
        self.blobs: Dict[str, bytes] = {}
        self.httpd = FakeServer(("127.0.0.1", 0), Handler)
        self.httpd.fake = self
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        # shutdown() waits for one poll of serve_forever: 0.5 s by default, per fake server.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def route(self, method: str, pattern: str, route: Route) -> "FakeRegistry":
        self.routes.append((method, pattern, route))
        return self

    def manifest(self, repo: str, ident: str, doc, media_type: str = OCI_MANIFEST) -> str:
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        digest = sha(data)
        headers = {"Docker-Content-Digest": digest}
        for name in (ident, digest):
            self.route("GET", f"/v2/{repo}/manifests/{re.escape(name)}",
                       lambda h: h.reply(200, data, headers, media_type))
            self.route("HEAD", f"/v2/{repo}/manifests/{re.escape(name)}",
                       lambda h: h.reply(200, data, headers, media_type))
        return digest

    def blob(self, repo: str, data: bytes) -> dict:
        digest = sha(data)
        self.route("GET", f"/v2/{repo}/blobs/{digest}", lambda h: h.reply(200, data))
        return {"mediaType": "application/octet-stream", "digest": digest, "size": len(data)}

    def accepting_pushes(self, repo: str, upload_location: Optional[Callable[[], str]] = None) -> "FakeRegistry":
        """Enough of the push protocol for pyko to push to `repo` (uploads land in self.blobs)."""
        def head_blob(h):
            digest = h.path.rsplit("/", 1)[1]
            h.reply(200 if digest in self.blobs else 404)

        def start(h):
            location = upload_location() if upload_location else f"/v2/{repo}/blobs/uploads/session"
            h.reply(202, headers={"Location": location})

        def put_blob(h):
            self.blobs[h.path.split("digest=", 1)[1].replace("%3A", ":")] = h.body
            h.reply(201)

        def put_manifest(h):
            h.reply(201, headers={"Docker-Content-Digest": sha(h.body)})

        return (self.route("HEAD", f"/v2/{repo}/blobs/.*", head_blob)
                .route("POST", f"/v2/{repo}/blobs/uploads/", start)
                .route("PUT", f"/v2/{repo}/blobs/uploads/.*", put_blob)
                .route("PUT", f"/v2/{repo}/manifests/.*", put_manifest))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def base_image(fake: FakeRegistry, repo: str, tag: str = "latest", *, layer_digest: str = "",
               config_digest: str = "", entry_digest: str = "", config: Optional[bytes] = None) -> None:
    """A one-platform (linux/amd64) base in `repo`, with any digest replaced by a hostile one."""
    layer = fake.blob(repo, b"not really a tarball")
    config_bytes = config if config is not None else json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha(b"x")]}}).encode()
    config_desc = fake.blob(repo, config_bytes)
    if config_digest:
        config_desc = dict(config_desc, digest=config_digest)
    if layer_digest:
        layer = dict(layer, digest=layer_digest)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": dict(config_desc, mediaType=
                "application/vnd.oci.image.config.v1+json"), "layers": [layer]}
    digest = fake.manifest(repo, "amd64", manifest)
    entry = {"mediaType": OCI_MANIFEST, "digest": entry_digest or digest, "size": 100,
             "platform": {"os": "linux", "architecture": "amd64"}}
    fake.manifest(repo, tag, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}, OCI_INDEX)


def _vm_hwm_mib(pid: int) -> int:
    """The process's peak RSS (VmHWM), in MiB. It belongs to the address space, which exec
    replaces, so unlike ru_maxrss it does not include the (large) pytest process that forked it."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def run_measured(args: List[str], env: dict, timeout: int = 120) -> Tuple[subprocess.CompletedProcess, int]:
    """Run the CLI; returns (result, its peak RSS in MiB), sampled every few milliseconds."""
    proc = subprocess.Popen([sys.executable, "-m", "pyko", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _vm_hwm_mib(proc.pid))
            done.wait(0.003)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    finally:
        done.set()
        sampler.join()
    assert peak[0] > 10, f"no peak RSS was measured for {args}"  # a Python process takes more than 10 MiB
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), peak[0]


def run_costed(args: List[str], env: dict, timeout: int = 120) -> Tuple[subprocess.CompletedProcess, int, float]:
    """run_measured, plus the CPU seconds (user + system) the run took: its cost, whatever else the
    machine is doing, where wall-clock time would depend on the load."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc, peak = run_measured(args, env, timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, peak, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def link_fan_out(kodata, levels: int = 5, fan: int = 10) -> None:
    """A kodata/ of `levels` levels of `fan` links, each to the level below: about 58 entries on disk
    that a walk following every link expands to fan**levels files."""
    below = kodata / "l0"
    below.mkdir(parents=True, exist_ok=True)
    (below / "f").write_text("x")
    for n in range(1, levels + 1):
        level = kodata / f"l{n}"
        level.mkdir()
        for i in range(fan):
            (level / f"s{i}").symlink_to(below)
        below = level
