"""cosign-compatible signing: keys, the simple-signing payload, signature manifests.

Signatures are stored the way cosign stores them (its "legacy" layout, which
cosign v2 and v3 both verify): an OCI manifest tagged `sha256-<hex>.sig` in
the image's repository, one layer per signature holding the exact payload
bytes, the base64 ECDSA P-256 signature in the layer annotation
`dev.cosignproject.cosign/signature`. New signatures are appended.

Keys: cosign.pub is a PEM SubjectPublicKeyInfo. cosign.key is cosign's own
format: PEM "ENCRYPTED SIGSTORE PRIVATE KEY" around JSON with scrypt params
and a NaCl secretbox holding the PKCS#8 key (PyNaCl does the secretbox).
Plain or encrypted PKCS#8 PEM keys are read too.
"""
from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import MalformedInput, PykoError, UsageError
from ..image import BytesBlob, canonical_json, mediatypes
from ..image.blob import Descriptor
from ..image.documents import load_json, parse_manifest
from ..util.files import read_capped
from . import strict_json

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SIGNATURE_TYPE = "cosign container image signature"
COSIGN_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY"
COSIGN_PEM_OLD = "ENCRYPTED COSIGN PRIVATE KEY"
SCRYPT_N = {2 ** 15, 2 ** 16, 2 ** 17}
ZERO_TIME = "0001-01-01T00:00:00Z"


def tag_for(digest: str, suffix: str) -> str:
    """cosign's tag for things attached to `digest`: sha256-<hex>.sig / .sbom / .att."""
    algorithm, hex_digest = digest.split(":", 1)
    return f"{algorithm}-{hex_digest}.{suffix}"


# --- payload -----------------------------------------------------------------
def payload(docker_reference: str, digest: str, annotations: Optional[Mapping[str, str]] = None) -> bytes:
    """The simple-signing payload, field order and spacing as cosign writes it."""
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": SIGNATURE_TYPE,
        },
        "optional": dict(annotations) if annotations else None,
    }
    return canonical_json(doc)


# --- keys --------------------------------------------------------------------
def password_from(environ: Mapping[str, str], confirm: bool = False, what: str = "the private key") -> bytes:
    """COSIGN_PASSWORD (may be empty), else a prompt on a terminal."""
    if "COSIGN_PASSWORD" in environ:
        return environ["COSIGN_PASSWORD"].encode()
    if not sys.stdin.isatty():
        raise UsageError(f"set COSIGN_PASSWORD to the password of {what} (there is no terminal to ask on)")
    first = getpass.getpass(f"Enter password for {what}: ")
    if confirm and getpass.getpass(f"Enter password for {what} again: ") != first:
        raise UsageError("the passwords do not match")
    return first.encode()


def _nacl() -> Any:   # nacl.secret: PyNaCl has no type information
    try:
        import nacl.secret

        return nacl.secret
    except ImportError:
        raise PykoError("cosign.key files need PyNaCl, a dependency of pyko: pip install PyNaCl") from None


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # 128*r*n bytes is the working set; hashlib's default cap (32 MiB) is too small.
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=256 * r * n + (1 << 20), dklen=32)


def encrypt_cosign_key(private_key: PrivateKeyTypes, password: bytes) -> bytes:
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    key = _scrypt(password, salt, 2 ** 16, 8, 1)
    box = _nacl().SecretBox(key)
    ciphertext = box.encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": 2 ** 16, "r": 8, "p": 1},
                   "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(ciphertext).decode()}
    body = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {COSIGN_PEM}-----\n" + "\n".join(lines) + f"\n-----END {COSIGN_PEM}-----\n").encode()


def decrypt_cosign_key(pem: bytes, password: bytes, source: str = "cosign.key") -> PrivateKeyTypes:
    text = pem.decode("ascii", "replace")
    label = COSIGN_PEM if COSIGN_PEM in text else COSIGN_PEM_OLD
    try:
        body = text.split(f"-----BEGIN {label}-----", 1)[1].split(f"-----END {label}-----", 1)[0]
        doc = json.loads(base64.b64decode("".join(body.split())))
        params = doc["kdf"]["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(doc["kdf"]["salt"])
        nonce = base64.b64decode(doc["cipher"]["nonce"])
        ciphertext = base64.b64decode(doc["ciphertext"])
    except (IndexError, KeyError, ValueError, TypeError):
        raise PykoError(f"{source} is not a valid cosign private key file") from None
    if doc["kdf"].get("name") != "scrypt" or doc["cipher"].get("name") != "nacl/secretbox":
        raise PykoError(f"{source}: unsupported key encryption {doc['kdf'].get('name')}/{doc['cipher'].get('name')}")
    if n not in SCRYPT_N or (r, p) != (8, 1):
        raise PykoError(f"{source}: unsupported scrypt parameters N={n} r={r} p={p}")
    secret = _nacl()
    try:
        der = secret.SecretBox(_scrypt(password, salt, n, r, p)).decrypt(ciphertext, nonce)
    except Exception:  # nacl.exceptions.CryptoError: wrong password or a damaged file
        raise PykoError(f"cannot decrypt {source}: wrong password (COSIGN_PASSWORD)?") from None
    return serialization.load_der_private_key(der, password=None)


def generate_key_pair(password: bytes) -> Tuple[bytes, bytes]:
    """(cosign.key bytes, cosign.pub bytes) for a new ECDSA P-256 key."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return encrypt_cosign_key(private_key, password), public


#: A key file is a few hundred bytes; a larger one is not a key (and is never read whole).
MAX_KEY_FILE = 64 << 10


def load_private_key(path: str, environ: Mapping[str, str]) -> PrivateKeyTypes:
    data = read_capped(path, MAX_KEY_FILE, "key")
    if COSIGN_PEM.encode() in data or COSIGN_PEM_OLD.encode() in data:
        return decrypt_cosign_key(data, password_from(environ, what=path), path)
    password = None
    if b"ENCRYPTED PRIVATE KEY" in data:
        password = password_from(environ, what=path)
    try:
        return serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as err:
        raise PykoError(f"cannot load private key {path}: {err}") from None


def load_public_key(path: str) -> PublicKeyTypes:
    data = read_capped(path, MAX_KEY_FILE, "key")
    try:
        return serialization.load_pem_public_key(data)
    except ValueError:
        raise UsageError(f"{path} is not a PEM public key (cosign.pub)") from None


# --- signatures ----------------------------------------------------------------
def sign(private_key: PrivateKeyTypes, data: bytes) -> str:
    """A base64 signature over `data`. ECDSA is deterministic (RFC 6979): signing the same
    payload twice gives the same signature, so a rebuild adds no second copy."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        raw = private_key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.sign(data)
    elif isinstance(private_key, rsa.RSAPrivateKey):
        raw = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise PykoError(f"unsupported key type {type(private_key).__name__}")
    return base64.b64encode(raw).decode()


def verify(public_key: PublicKeyTypes, data: bytes, signature_b64: str) -> bool:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        return False
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(raw) == 64 and raw[0] != 0x30:  # IEEE P1363 r||s, which cosign also accepts
                raw = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            public_key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(raw, data)
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


# --- the .sig / .sbom manifests -------------------------------------------------
@dataclass(frozen=True)
class ArtifactLayer:
    media_type: str
    data: bytes
    annotations: Mapping[str, str]
    problem: str = ""           # why this layer of a manifest being verified could not be read ("" when it could)

    @property
    def blob(self) -> BytesBlob:
        return BytesBlob(self.media_type, self.data)


def artifact_manifest(layers: Sequence[ArtifactLayer]) -> Tuple[BytesBlob, List[BytesBlob]]:
    """cosign's small image for attachments: an OCI manifest, a config listing
    the layers as diff IDs (they are uncompressed), one layer per item."""
    config = {"architecture": "", "created": ZERO_TIME, "history": [{"created": ZERO_TIME}], "os": "",
              "rootfs": {"type": "layers", "diff_ids": [layer.blob.descriptor.digest for layer in layers]},
              "config": {}}
    config_blob = BytesBlob(mediatypes.OCI_CONFIG, canonical_json(config))
    manifest = {"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                "config": config_blob.descriptor.to_json(),
                "layers": [layer.blob.descriptor.with_(annotations=dict(layer.annotations)).to_json()
                           for layer in layers]}
    blobs = [config_blob] + [layer.blob for layer in layers]
    return BytesBlob(mediatypes.OCI_MANIFEST, canonical_json(manifest)), blobs


#: An attachment manifest (.sig, .sbom) is read whole into memory: these bound it. Signatures are
#: read as cosign reads them, up to its limit of layers (pkg/oci/remote's maxLayers).
MAX_ATTACHED_LAYERS = 128

#: Reads a blob a manifest names: its bytes, checked against the descriptor.
Fetch = Callable[[Descriptor], bytes]
COSIGN_MAX_LAYERS = 1000
MAX_ATTACHED_BYTES = 32 << 20


def existing_layers(manifest: Optional[bytes], fetch: Fetch, where: str = "signature manifest") -> List[ArtifactLayer]:
    """The layers of an existing .sig manifest; `fetch(descriptor)` gives a blob's bytes."""
    if not manifest:
        return []
    doc = parse_manifest(manifest, where, max_layers=MAX_ATTACHED_LAYERS)
    total = sum(desc.size for desc in doc.layers)
    if total > MAX_ATTACHED_BYTES:
        raise MalformedInput(f"{where}: its layers hold {total} bytes; more than the "
                             f"{MAX_ATTACHED_BYTES} pyko reads")
    return [ArtifactLayer(desc.media_type, fetch(desc), dict(desc.annotations or {})) for desc in doc.layers]


def layers_for_verifying(manifest: bytes, fetch: Fetch, where: str) -> List[ArtifactLayer]:
    """Each layer of a signature manifest on its own, as cosign reads them: up to COSIGN_MAX_LAYERS,
    and a layer that cannot be read (a bad descriptor, a blob that is not what it says) becomes a
    layer with a `problem`, so it is one refused signature and never hides the good ones."""
    doc = load_json(manifest, where)
    entries = doc.get("layers")
    if not isinstance(entries, list):
        raise MalformedInput(f"{where}: layers must be a list")
    if len(entries) > COSIGN_MAX_LAYERS:
        raise MalformedInput(f"{where}: {len(entries)} layers; cosign and pyko read at most {COSIGN_MAX_LAYERS}")
    parsed: List[Union[Descriptor, str]] = []   # a descriptor, or why the entry is not one
    for n, entry in enumerate(entries, 1):
        try:
            parsed.append(Descriptor.from_json(entry, f"{where}: layer {n}"))
        except MalformedInput as err:
            parsed.append(str(err))
    total = sum(item.size for item in parsed if isinstance(item, Descriptor))
    if total > MAX_ATTACHED_BYTES:  # refused before anything is fetched
        raise MalformedInput(f"{where}: its layers hold {total} bytes; more than the {MAX_ATTACHED_BYTES} pyko reads")
    out = []
    for item in parsed:
        if isinstance(item, str):
            out.append(ArtifactLayer("", b"", {}, problem=item))
            continue
        try:
            out.append(ArtifactLayer(item.media_type, fetch(item), dict(item.annotations or {})))
        except MalformedInput as err:
            out.append(ArtifactLayer("", b"", {}, problem=str(err)))
    return out


def add_signature(existing: List[ArtifactLayer], signed_payload: bytes, signature: str,
                  extra: Optional[Mapping[str, str]] = None) -> List[ArtifactLayer]:
    """`existing` with one more signature layer (`extra`: a keyless signature's certificate, chain
    and Rekor bundle annotations)."""
    new = ArtifactLayer(SIMPLESIGNING, signed_payload, {SIGNATURE_ANNOTATION: signature, **(extra or {})})
    if any(layer.data == new.data and layer.annotations.get(SIGNATURE_ANNOTATION) == signature
           for layer in existing):
        return existing  # the same signature twice is one signature
    return existing + [new]


@dataclass(frozen=True)
class GoodSignature:
    """A simple-signing payload whose signature verifies (verify.py's Verified adds where and how)."""

    payload: bytes


def verify_layers(public_key: PublicKeyTypes, layers: Sequence[ArtifactLayer], digest: str,
                  required: Mapping[str, str]) -> Tuple[List[GoodSignature], List[str]]:
    """(payloads that verify, reasons the others do not)."""
    good, reasons = [], []
    for n, layer in enumerate(layers, start=1):
        signature = layer.annotations.get(SIGNATURE_ANNOTATION, "")
        if not signature:
            reasons.append(f"signature {n}: no {SIGNATURE_ANNOTATION} annotation")
            continue
        if not verify(public_key, layer.data, signature):
            reasons.append(f"signature {n}: does not verify with this key (wrong key, or payload altered)")
            continue
        try:
            doc = strict_json.loads(layer.data, f"signature {n}: the payload")  # as cosign reads it
            claimed = doc["critical"]["image"]["docker-manifest-digest"]
        except MalformedInput as err:
            reasons.append(str(err))
            continue
        except (KeyError, TypeError):
            reasons.append(f"signature {n}: the payload is not a cosign simple-signing payload")
            continue
        if claimed != digest:
            reasons.append(f"signature {n}: signs {claimed}, not {digest}")
            continue
        optional = doc.get("optional") or {}
        if not isinstance(optional, dict):
            reasons.append(f"signature {n}: the payload's optional annotations are not an object")
            continue
        missing = {k: v for k, v in required.items() if str(optional.get(k)) != v}
        if missing:
            wanted = ", ".join(f"{k}={v}" for k, v in missing.items())
            reasons.append(f"signature {n}: annotations do not match ({wanted})")
            continue
        good.append(GoodSignature(layer.data))
    return good, reasons
