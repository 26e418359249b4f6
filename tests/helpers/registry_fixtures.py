"""The real registry for tests: Debian's docker-registry (CNCF distribution),
on a free loopback port, with TLS, htpasswd or token auth as a test needs.

The token server is the only stand-in: distribution delegates Bearer auth to
an external service, so the suite runs a small one that signs ES256 JWTs with
a certificate the registry trusts, as the distribution token spec describes.
"""
from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory: str, name: str, hosts=("localhost", "127.0.0.1")):
    """A self-signed EC certificate (it is its own CA), valid for `hosts`."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    sans = [x509.IPAddress(ipaddress.ip_address(h)) if h[0].isdigit() else x509.DNSName(h) for h in hosts]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert, key, cert_path, key_path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """Issues registry tokens. `users` maps user -> (password, allowed actions);
    `refresh_tokens` maps an identity token -> user. Anonymous gets pull only."""

    service: str
    cert: object
    key: object
    users: Dict[str, tuple] = field(default_factory=dict)
    refresh_tokens: Dict[str, str] = field(default_factory=dict)
    requests: List[dict] = field(default_factory=list)
    port: int = 0

    def issue(self, user: Optional[str], scopes: List[str]) -> str:
        allowed = {"pull"} if user is None else set(self.users[user][1])
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",") if a in allowed]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256",
                  "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        claims = {"iss": "pyko-test-issuer", "sub": user or "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def start(self) -> "TokenServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _user(self):
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return None, True
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                ok = user in server.users and server.users[user][0] == password
                return user, ok

            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
                server.requests.append({"method": "GET", "scopes": scopes,
                                        "basic": "Authorization" in self.headers})
                user, ok = self._user()
                if not ok:
                    return self._reply(401, {"details": "bad credentials"})
                token = server.issue(user, scopes)
                self._reply(200, {"token": token, "access_token": token, "expires_in": 300})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
                server.requests.append({"method": "POST", "scopes": scopes,
                                        "grant_type": form.get("grant_type", [""])[0]})
                user = server.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if form.get("grant_type", [""])[0] != "refresh_token" or user is None:
                    return self._reply(401, {"error": "invalid_grant"})
                self._reply(200, {"access_token": server.issue(user, scopes), "expires_in": 300})

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self):
        self._httpd.shutdown()


@dataclass
class RunningRegistry:
    host: str                  # 127.0.0.1:PORT
    directory: str
    process: subprocess.Popen
    ca_cert: str = ""          # the TLS certificate to trust, if TLS

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_registry(directory: str, tls: bool = False, htpasswd: Optional[Dict[str, str]] = None,
                   token: Optional[TokenServer] = None) -> RunningRegistry:
    if not shutil.which("docker-registry"):
        pytest.skip("needs docker-registry (Debian package; .ci/install-deps installs it)")
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    lines = ["version: 0.1", "log: {level: error, accesslog: {disabled: true}}",
             "storage:", f"  filesystem: {{rootdirectory: {directory}/data}}", "  delete: {enabled: true}",
             "http:", f"  addr: 127.0.0.1:{port}", "  secret: pyko-test-secret"]
    ca = ""
    if tls:
        _, _, ca, key = make_cert(directory, "tls")
        lines.append(f"  tls: {{certificate: {ca}, key: {key}}}")
    if htpasswd:
        if not shutil.which("htpasswd"):
            pytest.skip("needs htpasswd (apache2-utils)")
        path = os.path.join(directory, "htpasswd")
        with open(path, "w") as f:
            for user, password in htpasswd.items():
                f.write(subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True,
                                       check=True).stdout.strip() + "\n")
        lines += ["auth:", f"  htpasswd: {{realm: pyko-test, path: {path}}}"]
    if token:
        bundle = os.path.join(directory, "token-root.crt")
        with open(bundle, "wb") as f:
            f.write(token.cert.public_bytes(serialization.Encoding.PEM))
        lines += ["auth:", "  token:", f"    realm: {token.realm}", f"    service: {token.service}",
                  "    issuer: pyko-test-issuer", f"    rootcertbundle: {bundle}"]
    config = os.path.join(directory, "config.yml")
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = open(os.path.join(directory, "registry.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return RunningRegistry(f"127.0.0.1:{port}", directory, proc, ca)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    with open(os.path.join(directory, "registry.log")) as f:
        raise RuntimeError(f"docker-registry did not start:\n{f.read()}")


def token_server(directory: str, users=None, refresh_tokens=None) -> TokenServer:
    os.makedirs(directory, exist_ok=True)
    cert, key, _, _ = make_cert(directory, "token-signer")
    return TokenServer("pyko-test-registry", cert, key, dict(users or {}), dict(refresh_tokens or {})).start()


REFERRERS_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "referrers_registry")


def start_referrers_registry(directory: str) -> RunningRegistry:
    """go-containerregistry's in-memory registry with the OCI 1.1 referrers API (a ten-line Go
    main in tests/helpers/referrers_registry, built from the Go module proxy once and cached)."""
    go = shutil.which("go")
    if not go:
        pytest.skip("needs go to build the referrers registry")
    cache = os.path.join(os.path.expanduser("~"), ".cache", "pyko-tests")
    binary = os.path.join(cache, "referrers-registry-ggcr-v0.22.1")
    if not os.path.exists(binary):
        os.makedirs(cache, exist_ok=True)
        built = subprocess.run([go, "build", "-o", binary, "."], cwd=REFERRERS_SOURCE, capture_output=True,
                               text=True, env={**os.environ, "GOFLAGS": "-mod=mod"}, timeout=600)
        if built.returncode != 0:
            pytest.skip(f"could not build the referrers registry: {built.stderr[-500:]}")
    port = free_port()
    os.makedirs(directory, exist_ok=True)
    log = open(os.path.join(directory, "registry.log"), "w")
    proc = subprocess.Popen([binary, f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return RunningRegistry(f"127.0.0.1:{port}", directory, proc)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the referrers registry did not start")
