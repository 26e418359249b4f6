"""pyko's built-in static base: what Chainguard static and distroless static
hold, made from Python packages so it needs no network and no host files.

One layer, identical for every platform: passwd/group (root, nonroot 65532,
nobody), nsswitch.conf, os-release, the Mozilla CA bundle (certifi), zoneinfo
(tzdata), /tmp 1777, /home/nonroot and /root 0700. It is a fixed image (mtime
0, created 1970): its digest depends only on pyko's recipe and the certifi and
tzdata versions, never on the app's SOURCE_DATE_EPOCH, so it deduplicates
across builds like any pinned base.
"""
from __future__ import annotations

import hashlib
import os
from importlib import resources
from typing import TYPE_CHECKING, Iterable, List, Optional, Tuple

from ..platforms import ALL_LINUX, Platform
from ..util.atomic import atomic_file
from ..util.jsontypes import JsonObject
from ..util.timestamps import rfc3339
from . import mediatypes

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources' file tree (its own abc from 3.11)
from .blob import Descriptor, FileBlob, Layer
from .conventions import DEFAULT_PATH, NONROOT, NONROOT_ID
from .digest import file_digest
from .image import Image, Index
from .layer import TarEntry, dir_entry, file_entry, symlink_entry, write_layer
from .layer import recipe as layer_recipe
from .pgzip import Deflater, pinned

#: The reference users write to mean this base; `://` keeps it from ever
#: parsing as a registry image.
REFERENCE = "pyko://static"
#: Bump when the recipe below changes, so cached layers are rebuilt.
RECIPE = "1"

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
NSSWITCH = (
    "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
    "networks: files\nprotocols: files\nservices: files\n"
)
OS_RELEASE = (
    'NAME="pyko static"\nID=pyko-static\nPRETTY_NAME="pyko static (built-in base)"\n'
    'HOME_URL="https://pypi.org/project/pyko/"\n'
)
HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"


def _zoneinfo_entries() -> List[TarEntry]:
    entries: List[TarEntry] = []

    def walk(node: Traversable, dest: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name.startswith("__") or child.name.endswith((".py", ".pyc")):
                continue  # the package's own Python files
            if child.is_dir():
                walk(child, f"{dest}/{child.name}")
            else:
                entries.append(file_entry(f"{dest}/{child.name}", data=child.read_bytes()))

    walk(resources.files("tzdata") / "zoneinfo", "/usr/share/zoneinfo")
    return entries


def _ca_bundle() -> bytes:
    return (resources.files("certifi") / "cacert.pem").read_bytes()


def base_entries() -> List[TarEntry]:
    return [
        file_entry("/etc/passwd", data=PASSWD.encode()),
        file_entry("/etc/group", data=GROUP.encode()),
        file_entry("/etc/nsswitch.conf", data=NSSWITCH.encode()),
        file_entry("/etc/os-release", data=OS_RELEASE.encode()),
        file_entry("/etc/hosts", data=HOSTS.encode()),
        file_entry(CA_BUNDLE, data=_ca_bundle()),
        symlink_entry("/etc/ssl/cert.pem", "certs/ca-certificates.crt"),
        dir_entry("/home"),
        dir_entry("/home/nonroot", mode=0o700, uid=NONROOT_ID, gid=NONROOT_ID),
        dir_entry("/root", mode=0o700),
        dir_entry("/tmp", mode=0o1777),
        *_zoneinfo_entries(),
    ]


def contents() -> Tuple[Tuple[str, str, str], ...]:
    """What the built-in base holds that has a version, for SBOMs: (what, version, purl)."""
    from importlib.metadata import version

    return (("Mozilla CA bundle (certifi)", version("certifi"), f"pkg:pypi/certifi@{version('certifi')}"),
            ("IANA time zone database (tzdata)", version("tzdata"), f"pkg:pypi/tzdata@{version('tzdata')}"))


def _versions_key(deflater: Deflater) -> str:
    from importlib.metadata import version

    text = f"{RECIPE} {layer_recipe(deflater)} certifi={version('certifi')} tzdata={version('tzdata')}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_layer(cache_dir: str, deflater: Optional[Deflater] = None) -> Layer:
    """The base's one layer, built once per versions key and cached in `cache_dir`."""
    deflater = deflater or pinned()
    history = {"created": rfc3339(0), "created_by": "pyko", "comment": "pyko built-in static base"}
    key_dir = os.path.join(cache_dir, "static-base", _versions_key(deflater))
    marker = os.path.join(key_dir, "layer")
    if os.path.exists(marker):
        with open(marker) as f:
            hex_digest, diff_id, size = f.read().split()
        path = os.path.join(key_dir, hex_digest)
        if os.path.exists(path) and os.path.getsize(path) == int(size) and file_digest(path) == f"sha256:{hex_digest}":
            desc = Descriptor(mediatypes.OCI_LAYER_GZIP, "sha256:" + hex_digest, int(size))
            return Layer(FileBlob(desc, path), diff_id, history)
    layer = write_layer(base_entries(), key_dir, mtime=0, history=history, deflater=deflater)
    with atomic_file(marker) as f:
        f.write(f"{layer.descriptor.hex} {layer.diff_id} {layer.descriptor.size}\n".encode())
    return layer


def base_config(platform: Platform, layer: Layer) -> JsonObject:
    config: JsonObject = {"created": rfc3339(0), "architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        config["variant"] = platform.variant
    config["config"] = {"Env": [f"PATH={DEFAULT_PATH}", f"SSL_CERT_FILE={CA_BUNDLE}"], "User": NONROOT}
    config["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id]}
    config["history"] = [dict(layer.history)]
    return config


def static_base(cache_dir: str, platforms: Optional[Iterable[Platform]] = None,
                deflater: Optional[Deflater] = None) -> Index:
    """The built-in base as a multi-platform index (all eight linux platforms by default)."""
    layer = base_layer(cache_dir, deflater)
    wanted = list(platforms) if platforms is not None else [Platform.parse(p) for p in ALL_LINUX]
    return Index.build([Image.build(base_config(p, layer), [layer]) for p in wanted])
