"""SPDX 2.3 JSON SBOMs: what is inside each image, and an index SBOM linking them.

Per platform: the image (purl pkg:oci), the base it descends from, the binary
(with its SHA-256), and the packages compiled into it, which each toolchain
driver collects (Go: the binary's build info; Rust: the crate graph); this
module only builds documents. Deterministic: the same image gives the same bytes
(created = SOURCE_DATE_EPOCH, namespace from the image digest, sorted output).
"""
from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from .. import __version__
from ..image.digest import file_digest
from ..inventory import Inventory, Package
from ..platforms import Platform
from ..reference import Reference
from ..util.jsontypes import JsonObject


def file_sha256(path: str) -> str:
    """The hex SHA-256 SPDX records for a file."""
    return file_digest(path).split(":", 1)[1]


# --- documents ------------------------------------------------------------------
def _spdx_id(text: str) -> str:
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", text)


def _package_json(spdx_id: str, package: Package) -> JsonObject:
    out = {"name": package.name, "SPDXID": spdx_id, "downloadLocation": "NOASSERTION",
           "filesAnalyzed": False, "primaryPackagePurpose": package.purpose}
    if package.version:
        out["versionInfo"] = package.version
    if package.sha256:
        out["checksums"] = [{"algorithm": "SHA256", "checksumValue": package.sha256}]
    if package.purl:
        out["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                "referenceLocator": package.purl}]
    if package.comment:
        out["comment"] = package.comment
    return out


def _oci_purl(name: str, digest: str, platform: Optional[Platform] = None) -> str:
    repo = name.rsplit("/", 1)[-1]
    qualifiers = {"repository_url": name} if "/" in name else {}
    if platform is not None:
        qualifiers.update({"arch": platform.architecture, "os": platform.os})
        if platform.variant:
            qualifiers["variant"] = platform.variant
    query = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in sorted(qualifiers.items()))
    return f"pkg:oci/{repo}@{urllib.parse.quote(digest)}" + (f"?{query}" if query else "")


def _repository(image: str) -> str:
    """`reg/repo` of a reference; the built-in base's pyko:// name as it is."""
    if "://" in image:
        return image
    return Reference.parse(image).name


def _document(name: str, digest: str, created: str, packages: List[JsonObject],
              relationships: List[JsonObject]) -> bytes:
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"sbom-{name}@{digest}",
        "documentNamespace": f"http://spdx.org/spdxdocs/pyko/{digest.split(':', 1)[1]}",
        "creationInfo": {"created": created, "creators": [f"Tool: pyko-{__version__}"]},
        "packages": packages,
        "relationships": relationships,
    }
    return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode()


@dataclass(frozen=True)
class Binary:
    """One binary in an image, for its SBOM: what was compiled into it, as far as it is known."""

    name: str                                   # /ko-app/NAME
    sha256: str                                 # hex
    packages: Tuple[Package, ...] = ()          # main module or crate first
    complete: bool = True                       # False: the package list could not be read
    note: str = ""                              # why not, for the SBOM's comment
    source: str = ""                            # where the package list came from

    @classmethod
    def of(cls, name: str, sha256: str, inventory: Inventory) -> "Binary":
        return cls(name, sha256, tuple(inventory.packages), inventory.complete, inventory.note, inventory.source)


def image_sbom(name: str, platform: Platform, image_digest: str, created: str, binaries: Sequence[Binary],
               base: Optional[Tuple[str, str]], base_contents: Sequence[Package] = ()) -> bytes:
    """One platform image's SBOM. `base` is (name, manifest digest) or None; `base_contents`,
    what the base is known to hold (the built-in base's CA bundle and zoneinfo)."""
    image_id = "SPDXRef-Image"
    entries = [_package_json(image_id, Package(name, image_digest, _oci_purl(name, image_digest, platform),
                                               image_digest.split(":", 1)[1], purpose="CONTAINER"))]
    rels = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": image_id}]
    if base:
        base_name, base_digest = base
        entries.append(_package_json("SPDXRef-Base", Package(
            base_name, base_digest, _oci_purl(_repository(base_name), base_digest, platform),
            base_digest.split(":", 1)[1], purpose="CONTAINER")))
        rels.append({"spdxElementId": image_id, "relationshipType": "DESCENDANT_OF",
                     "relatedSpdxElement": "SPDXRef-Base"})
        for n, package in enumerate(base_contents):
            pid = _spdx_id(f"Base-{n}-{package.name}")
            entries.append(_package_json(pid, package))
            rels.append({"spdxElementId": "SPDXRef-Base", "relationshipType": "CONTAINS", "relatedSpdxElement": pid})
    for b, binary in enumerate(binaries):
        binary_id = "SPDXRef-Binary" if len(binaries) == 1 else _spdx_id(f"Binary-{b}-{binary.name}")
        comment = (f"packages from {binary.source}" if binary.source else "") if binary.complete else \
            f"INCOMPLETE: what was compiled in is unknown ({binary.note})"
        entries.append(_package_json(binary_id, Package(f"/ko-app/{binary.name}", "", "", binary.sha256, comment,
                                                        purpose="APPLICATION")))
        rels.append({"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": binary_id})
        if not binary.complete:
            # SPDX's way to say "it depends on things, but we cannot say which".
            rels.append({"spdxElementId": binary_id, "relationshipType": "DEPENDS_ON",
                         "relatedSpdxElement": "NOASSERTION"})
        prefix = "Package" if len(binaries) == 1 else f"Package-{b}"
        for n, package in enumerate(binary.packages):
            pid = _spdx_id(f"{prefix}-{n}-{package.name}")
            entries.append(_package_json(pid, package))
            kind = "GENERATED_FROM" if n == 0 and package.purpose == "APPLICATION" else "DEPENDS_ON"
            rels.append({"spdxElementId": binary_id, "relationshipType": kind, "relatedSpdxElement": pid})
    return _document(name, image_digest, created, entries, rels)


def index_sbom(name: str, index_digest: str, created: str, children: Iterable[Tuple[Platform, str]]) -> bytes:
    """The index's SBOM: one package per platform image, each a VARIANT_OF the index."""
    index_id = "SPDXRef-Index"
    entries = [_package_json(index_id, Package(name, index_digest, _oci_purl(name, index_digest),
                                               index_digest.split(":", 1)[1], purpose="CONTAINER"))]
    rels = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": index_id}]
    for platform, digest in children:
        cid = _spdx_id(f"Image-{platform.slug}")
        entries.append(_package_json(cid, Package(f"{name} ({platform})", digest,
                                                  _oci_purl(name, digest, platform), digest.split(":", 1)[1],
                                                  purpose="CONTAINER")))
        rels.append({"spdxElementId": cid, "relationshipType": "VARIANT_OF", "relatedSpdxElement": index_id})
    return _document(name, index_digest, created, entries, rels)


def sbom_filename(name: str, platform: Optional[Platform]) -> str:
    short = name.rsplit("/", 1)[-1]
    return f"{short}-{platform.slug}.spdx.json" if platform else f"{short}-index.spdx.json"
