"""A private Sigstore that speaks the real protocols, on loopback (test helper, not product code).

Three HTTP services over fake_sigstore.FakeSigstore's keys, each answering as the real one does
for what sigstore-python and cosign send:

- an OIDC issuer: `/.well-known/openid-configuration`, `/jwks` (RS256 keys), and GitHub Actions'
  token-request endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`, bearer-authenticated, `?audience=`),
  minting tokens with GitHub-like claims (`iss` https://token.actions.githubusercontent.com,
  `sub`, `job_workflow_ref`, `repository`, `ref`, `sha`, ...);
- Fulcio's v2 `POST /api/v2/signingCert`: a CSR (sigstore-python) or a public key with a proof
  of possession over the token's subject (cosign); the token is verified against the issuer's
  JWKS fetched over HTTP through its discovery document, as Fulcio does; the certificate's SAN is
  `https://github.com/<job_workflow_ref>` for GitHub tokens (else the email or subject), with the
  issuer extensions and an embedded SCT;
- Rekor's v1 `POST /api/v1/log/entries` for hashedrekord and dsse 0.0.1 (signatures checked
  against the certificate, dsse proposals turned into Rekor's canonical dsse body), answered
  201 with an ETag, an SET and an RFC 6962 inclusion proof with a signed checkpoint; plus
  `GET /api/v1/log` and `GET /api/v1/log/entries/<uuid>`.

`client_trust_config()` is the file sigstore-python (`--trust-config`) and pyko take; the
trusted root alone is the file cosign takes (`--trusted-root`). Faults for the tests:
`fulcio_refuses` (an HTTP status), `fulcio_echoes_token` (a refusal quoting the token), `rekor_down`
(503 to every request).
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple

import jwt
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ObjectIdentifier

from fake_sigstore import ECDSA, ISSUER, FakeSigstore, _canonical, _utf8_der

GITHUB = ISSUER
#: Fulcio's GitHub extensions (the 1.3.6.1.4.1.57264.1.N arc): DER UTF8String values.
GITHUB_EXTENSIONS = {"9": "build_signer", "12": "source_repository", "13": "sha", "14": "ref",
                     "20": "event_name"}
AUDIENCE = "sigstore"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64url(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


# --- a Merkle tree as RFC 6962 defines it ---------------------------------------------------------
def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def tree_hash(leaves: List[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def inclusion_path(m: int, leaves: List[bytes]) -> List[bytes]:
    """RFC 6962 PATH(m, D[n]): the audit path of leaf m, leaf-most first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return inclusion_path(m, leaves[:k]) + [tree_hash(leaves[k:])]
    return inclusion_path(m - k, leaves[k:]) + [tree_hash(leaves[:k])]


# --- the services ------------------------------------------------------------------------------------
class _Server:
    """One ThreadingHTTPServer on a free loopback port, answering through `route`."""

    def __init__(self, route: Callable[[str, str, dict, bytes], Tuple[int, dict, bytes]]):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((method, self.path))
                status, headers, data = route(method, self.path, dict(self.headers), body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's names
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):
                pass

        self.requests: List[Tuple[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _json(status: int, doc: object, **headers: str) -> Tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(doc).encode()


@dataclass
class SigstoreServices:
    """The OIDC issuer, Fulcio and Rekor, started; `close()` stops them."""

    fake: FakeSigstore = field(default_factory=FakeSigstore)
    fulcio_refuses: int = 0                 # an HTTP status Fulcio answers with instead of a certificate
    fulcio_echoes_token: bool = False       # Fulcio refuses, quoting the token it was sent (a careless service)
    rekor_down: bool = False                # Rekor answers 503 to everything
    request_token: str = "gha-request-token"    # what GitHub's token endpoint wants as its bearer

    def __post_init__(self):
        self.oidc_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "pyko-test-oidc"
        self.leaves: List[bytes] = []
        self.entries: Dict[str, dict] = {}
        self.lock = threading.Lock()
        self.issued: List[x509.Certificate] = []
        self.request_kinds: List[str] = []     # "csr" (sigstore-python) or "proof" (cosign, sigstore-go)
        self.oidc = _Server(self._oidc_route)
        self.fulcio = _Server(self._fulcio_route)
        self.rekor = _Server(self._rekor_route)
        #: issuer claim -> where its discovery document is (Fulcio's OIDCIssuers config)
        self.issuers = {GITHUB: self.oidc.url, self.oidc.url: self.oidc.url}

    def close(self) -> None:
        for server in (self.oidc, self.fulcio, self.rekor):
            server.close()

    # --- tokens ---------------------------------------------------------------------------------------
    def github_token(self, repository: str = "acme/app", workflow: str = ".github/workflows/release.yml",
                     ref: str = "refs/heads/main", lifetime: int = 600, issued: Optional[int] = None,
                     audience: str = AUDIENCE, **claims) -> str:
        """A token as GitHub Actions mints one for `audience`, signed with the issuer's key."""
        now = int(time.time()) if issued is None else issued
        body = {"iss": GITHUB, "aud": audience, "iat": now, "nbf": now, "exp": now + lifetime,
                "sub": f"repo:{repository}:ref:{ref}", "repository": repository, "ref": ref,
                "sha": "4b2f6a0e" * 5, "workflow": "release", "event_name": "push",
                "job_workflow_ref": f"{repository}/{workflow}@{ref}", "runner_environment": "github-hosted",
                **claims}
        return jwt.encode(body, self.oidc_key, algorithm="RS256", headers={"kid": self.kid})

    @staticmethod
    def identity_of(repository: str = "acme/app", workflow: str = ".github/workflows/release.yml",
                    ref: str = "refs/heads/main") -> str:
        """The certificate identity (SAN) Fulcio gives a GitHub token with those claims."""
        return f"https://github.com/{repository}/{workflow}@{ref}"

    def _oidc_route(self, method, path, headers, body):
        if path == "/.well-known/openid-configuration":
            return _json(200, {"issuer": self.oidc.url, "jwks_uri": f"{self.oidc.url}/jwks",
                               "authorization_endpoint": f"{self.oidc.url}/auth",
                               "token_endpoint": f"{self.oidc.url}/token",
                               "response_types_supported": ["id_token"],
                               "subject_types_supported": ["public"],
                               "id_token_signing_alg_values_supported": ["RS256"]})
        if path == "/jwks":
            numbers = self.oidc_key.public_key().public_numbers()
            return _json(200, {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                                         "n": _int_b64url(numbers.n), "e": _int_b64url(numbers.e)}]})
        if path.startswith("/github-token"):
            # GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL: GET with the request token and ?audience=
            if headers.get("Authorization", "").lower() != f"bearer {self.request_token}":
                return _json(401, {"message": "bad request token"})
            audience = path.split("audience=", 1)[1].split("&")[0] if "audience=" in path else AUDIENCE
            return _json(200, {"count": 1, "value": self.github_token(audience=audience)})
        return _json(404, {"message": "not found"})

    # --- Fulcio ---------------------------------------------------------------------------------------
    def _verified_claims(self, token: str) -> dict:
        """The token's claims, verified as Fulcio does: its issuer's JWKS, found through discovery."""
        unverified = jwt.decode(token, options={"verify_signature": False})
        base = self.issuers.get(unverified.get("iss", ""))
        if base is None:
            raise ValueError(f"unknown issuer {unverified.get('iss')!r}")
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
        keys = requests.get(discovery["jwks_uri"], timeout=10).json()["keys"]
        kid = jwt.get_unverified_header(token).get("kid")
        key = next(jwt.PyJWK(k).key for k in keys if k.get("kid") == kid)
        return jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=unverified["iss"])

    def _fulcio_route(self, method, path, headers, body):
        if method != "POST" or path != "/api/v2/signingCert":
            return _json(404, {"code": 5, "message": "not found"})
        if self.fulcio_refuses:
            return _json(self.fulcio_refuses, {"code": 7, "message": "fulcio refuses (test)"})
        request = json.loads(body)
        token = (request.get("credentials") or {}).get("oidcIdentityToken") or \
            headers.get("Authorization", "").partition("Bearer ")[2]
        if self.fulcio_echoes_token:
            return _json(400, {"code": 3, "message": f"cannot use the token {token}"})
        try:
            claims = self._verified_claims(token)
        except Exception as err:  # noqa: BLE001 - any bad token is Fulcio's 401
            return _json(401, {"code": 16, "message": f"error processing the identity token: {err}"})
        subject = claims.get("email") or claims["sub"]
        if "certificateSigningRequest" in request:
            csr = x509.load_pem_x509_csr(base64.b64decode(request["certificateSigningRequest"]))
            if not csr.is_signature_valid:
                return _json(400, {"code": 3, "message": "invalid signature on the CSR"})
            public = csr.public_key()
            self.request_kinds.append("csr")
        else:
            key_request = request["publicKeyRequest"]
            public = serialization.load_pem_public_key(key_request["publicKey"]["content"].encode())
            try:   # the proof of possession: a signature over the token's subject
                public.verify(base64.b64decode(key_request["proofOfPossession"]), subject.encode(), ECDSA)
            except InvalidSignature:
                return _json(400, {"code": 3, "message": "the proof of possession does not verify"})
            self.request_kinds.append("proof")
        cert = self._certificate(claims, public)
        chain = [cert, self.fake.intermediate, self.fake.root]
        pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
        return _json(200, {"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}})

    def _certificate(self, claims: dict, public) -> x509.Certificate:
        issuer = claims["iss"]
        extensions = []
        if issuer == GITHUB:
            identity = f"https://github.com/{claims['job_workflow_ref']}"
            values = {"build_signer": identity, "source_repository": f"https://github.com/{claims['repository']}",
                      "sha": claims.get("sha", ""), "ref": claims.get("ref", ""),
                      "event_name": claims.get("event_name", "")}
            extensions = [(ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}"), _utf8_der(values[name]))
                          for n, name in GITHUB_EXTENSIONS.items() if values[name]]
        else:
            identity = claims.get("email") or claims["sub"]
        cert = self.fake.issue(identity, issuer, _PublicOnly(public), minutes=10, extensions=extensions)
        self.issued.append(cert)
        return cert

    # --- Rekor ------------------------------------------------------------------------------------------
    def _rekor_route(self, method, path, headers, body):
        if self.rekor_down:
            return _json(503, {"code": 503, "message": "rekor is down (test)"})
        if method == "POST" and path == "/api/v1/log/entries":
            try:
                canonical = _canonical_body(json.loads(body))
            except (ValueError, KeyError, TypeError, InvalidSignature) as err:
                return _json(400, {"code": 400, "message": f"invalid entry: {type(err).__name__} {err}"})
            return self._append(canonical)
        if method == "GET" and path == "/api/v1/log":
            with self.lock:
                size = len(self.leaves)
                root = tree_hash(self.leaves) if size else hashlib.sha256(b"").digest()
            return _json(200, {"rootHash": root.hex(), "treeSize": size, "treeID": "1",
                               "signedTreeHead": self.fake.checkpoint(root, size)})
        if method == "GET" and path.startswith("/api/v1/log/entries/"):
            uuid = path.rsplit("/", 1)[1]
            with self.lock:
                entry = self.entries.get(uuid)
            return _json(200, {uuid: entry}) if entry else _json(404, {"code": 404, "message": "no such entry"})
        return _json(404, {"code": 404, "message": "not found"})

    def _append(self, canonical: bytes):
        with self.lock:
            uuid = _leaf(canonical).hex()
            if uuid in self.entries:
                return _json(409, {"code": 409, "message": "an equivalent entry already exists"},
                             Location=f"/api/v1/log/entries/{uuid}")
            index = len(self.leaves)
            self.leaves.append(_leaf(canonical))
            root, size = tree_hash(self.leaves), len(self.leaves)
            entry = {"body": base64.b64encode(canonical).decode(), "integratedTime": int(time.time()),
                     "logID": self.fake.rekor_log_id.hex(), "logIndex": index}
            set_ = self.fake.rekor_key.sign(_canonical(entry), ECDSA)
            entry["verification"] = {
                "signedEntryTimestamp": base64.b64encode(set_).decode(),
                "inclusionProof": {"logIndex": index, "treeSize": size, "rootHash": root.hex(),
                                   "hashes": [h.hex() for h in inclusion_path(index, self.leaves)],
                                   "checkpoint": self.fake.checkpoint(root, size)}}
            self.entries[uuid] = entry
        return _json(201, {uuid: entry}, ETag=uuid, Location=f"/api/v1/log/entries/{uuid}")

    # --- the files clients take -----------------------------------------------------------------------
    def trusted_root(self) -> dict:
        root = self.fake.trusted_root()
        root["tlogs"][0]["baseUrl"] = self.rekor.url
        root["certificateAuthorities"][0]["uri"] = self.fulcio.url
        return root

    def signing_config(self) -> dict:
        start = {"start": self.fake.stamp(-datetime.timedelta(days=1))}

        def service(url: str, version: int) -> dict:
            return {"url": url, "majorApiVersion": version, "validFor": start, "operator": "pyko-tests"}

        return {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service(self.fulcio.url, 1)], "oidcUrls": [service(self.oidc.url, 1)],
                "rekorTlogUrls": [service(self.rekor.url, 1)], "tsaUrls": [],
                "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}}

    def client_trust_config(self) -> dict:
        return {"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": self.trusted_root(), "signingConfig": self.signing_config()}

    def write_files(self, directory) -> Tuple[str, str]:
        """(trust config path, trusted root path) written into `directory`."""
        trust, root = f"{directory}/trust_config.json", f"{directory}/trusted_root.json"
        with open(trust, "w") as f:
            json.dump(self.client_trust_config(), f)
        with open(root, "w") as f:
            json.dump(self.trusted_root(), f)
        return trust, root


class _PublicOnly:
    """FakeSigstore.issue wants a key with public_key(); Fulcio only ever has the public half."""

    def __init__(self, public):
        self._public = public

    def public_key(self):
        return self._public


def _pem_cert_key(verifier_b64: str):
    cert = x509.load_pem_x509_certificate(base64.b64decode(verifier_b64))
    return cert.public_key()


def _canonical_body(proposed: dict) -> bytes:
    """Rekor's canonical body for a proposed hashedrekord or dsse 0.0.1 entry, its signature checked."""
    kind, version = proposed["kind"], proposed["apiVersion"]
    if (kind, version) == ("hashedrekord", "0.0.1"):
        spec = proposed["spec"]
        digest = bytes.fromhex(spec["data"]["hash"]["value"])
        key = _pem_cert_key(spec["signature"]["publicKey"]["content"])
        key.verify(base64.b64decode(spec["signature"]["content"]), digest,
                   ec.ECDSA(Prehashed(hashes.SHA256())))
        body = {"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": spec["data"]["hash"]["value"]}},
            "signature": {"content": spec["signature"]["content"],
                          "publicKey": {"content": spec["signature"]["publicKey"]["content"]}}}}
        return _canonical(body)
    if (kind, version) == ("dsse", "0.0.1"):
        proposal = proposed["spec"]["proposedContent"]
        envelope_text = proposal["envelope"]
        envelope = json.loads(envelope_text)
        payload = base64.b64decode(envelope["payload"])
        kind_bytes = envelope["payloadType"].encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(kind_bytes), kind_bytes, len(payload), payload)
        signatures = []
        for verifier in proposal["verifiers"]:
            key = _pem_cert_key(verifier)
            for sig in envelope["signatures"]:
                key.verify(base64.b64decode(sig["sig"]), pae, ECDSA)
                signatures.append({"signature": sig["sig"], "verifier": verifier})
        body = {"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_text.encode()).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": signatures}}
        return _canonical(body)
    raise ValueError(f"unsupported entry kind {kind} {version}")
