"""SPDX documents: what they list, and that the same input gives the same bytes."""
import json

from pyko.platforms import Platform
from pyko.supplychain.sbom import Binary, Package, image_sbom, index_sbom, sbom_filename

IMAGE = "sha256:" + "1" * 64
BASE = "sha256:" + "2" * 64
ARM64 = Platform("linux", "arm64")


def _doc(**overrides):
    main = Package("example.com/app", "v1.0.0", "pkg:golang/example.com/app@v1.0.0", purpose="APPLICATION")
    dep = Package("golang.org/x/text", "v0.14.0", "pkg:golang/golang.org/x/text@v0.14.0")
    args = {"name": "reg.io/team/app", "platform": ARM64, "image_digest": IMAGE, "created": "2023-11-14T22:13:20Z",
            "binaries": [Binary("app", "3" * 64, (main, dep))], "base": ("cgr.dev/chainguard/static:latest", BASE)}
    args.update(overrides)
    return image_sbom(**args)


def test_image_sbom_lists_image_base_binary_and_packages():
    doc = json.loads(_doc())
    names = [p["name"] for p in doc["packages"]]
    assert names == ["reg.io/team/app", "cgr.dev/chainguard/static:latest", "/ko-app/app", "example.com/app",
                     "golang.org/x/text"]
    kinds = {(r["spdxElementId"], r["relationshipType"]) for r in doc["relationships"]}
    assert ("SPDXRef-Image", "DESCENDANT_OF") in kinds and ("SPDXRef-Binary", "GENERATED_FROM") in kinds
    assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z"


def test_same_input_same_bytes_other_input_other_bytes():
    assert _doc() == _doc()
    assert _doc() != _doc(binaries=[Binary("app", "4" * 64)])


def test_several_binaries_and_an_incomplete_list():
    doc = json.loads(_doc(binaries=[Binary("server", "5" * 64, (Package("a", "1"),)),
                                    Binary("cli", "6" * 64, (), complete=False, note="cargo metadata failed")]))
    binaries = [p for p in doc["packages"] if p["name"].startswith("/ko-app/")]
    assert [b["name"] for b in binaries] == ["/ko-app/server", "/ko-app/cli"]
    assert "INCOMPLETE" in binaries[1]["comment"] and "cargo metadata failed" in binaries[1]["comment"]
    assert {"spdxElementId": binaries[1]["SPDXID"], "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "NOASSERTION"} in doc["relationships"]


def test_index_sbom_and_file_names():
    doc = json.loads(index_sbom("reg.io/team/app", IMAGE, "2023-11-14T22:13:20Z", [(ARM64, BASE)]))
    assert [r["relationshipType"] for r in doc["relationships"]] == ["DESCRIBES", "VARIANT_OF"]
    assert sbom_filename("reg.io/team/app", ARM64) == "app-linux-arm64.spdx.json"
    assert sbom_filename("reg.io/team/app", None) == "app-index.spdx.json"


