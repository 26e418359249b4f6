"""commands/build.py: a Plan turned into images, binaries checked and layered, written to every
destination; here with prebuilt binaries (crafted static ELF files), so nothing is compiled."""
import io
import json
import os

import pytest

from pyko.commands.build import Output, build
from pyko.errors import BuildError, UsageError
from pyko.plan.config import Config
from pyko.plan.resolve import Flags, resolve
from pyko.transport import oci_layout
from pyko.util.progress import LineReporter

from elf_headers import elf_header, static_binary_for


@pytest.fixture
def binaries(tmp_path):
    out = {}
    for platform in ("linux/amd64", "linux/arm64"):
        path = tmp_path / platform.replace("/", "-")
        path.write_bytes(static_binary_for(platform))
        out[platform] = str(path)
    return out


def _plan(tmp_path, binaries, **flags):
    environ = {"PYKO_CACHE_DIR": str(tmp_path / "cache")}
    return resolve(Flags(binaries=tuple(binaries.items()), name="tool", oci_layout=str(tmp_path / "layout"),
                         **flags), Config(), environ)


def _lines(stream):
    return stream.getvalue().splitlines()


def test_prebuilt_binaries_become_a_two_platform_index_in_the_layout(tmp_path, binaries):
    stream = io.StringIO()
    [built] = build(_plan(tmp_path, binaries, tags=("v1",)), LineReporter(stream))
    assert built.name == "tool" and built.reference == f"tool:v1@{built.index.digest}"
    assert [str(p) for p in built.index.platforms()] == ["linux/amd64", "linux/arm64"]
    assert oci_layout.find(str(tmp_path / "layout"), "tool:v1").digest == built.index.digest
    config = built.index.images[0].config_json()
    assert config["config"]["Cmd"] == ["/ko-app/tool"] and config["config"]["User"] == "65532"
    assert any(line.startswith("pyko: tool: 2 platform(s) on pyko://static") for line in _lines(stream))
    assert built.outputs == (Output("oci-layout", str(tmp_path / "layout")),)


def test_the_same_plan_builds_the_same_digest_and_reuses_layers(tmp_path, binaries):
    first = build(_plan(tmp_path, binaries), LineReporter(io.StringIO()))[0]
    stream = io.StringIO()
    again = build(_plan(tmp_path, binaries), LineReporter(stream))[0]
    assert again.index.digest == first.index.digest
    assert any("layer cache: 2 layer(s) reused" in line for line in _lines(stream))


def test_a_binary_for_the_wrong_platform_is_refused_before_anything_is_written(tmp_path, binaries):
    with open(binaries["linux/arm64"], "wb") as f:
        f.write(static_binary_for("linux/amd64"))
    with pytest.raises(BuildError, match="packed for linux/arm64"):
        build(_plan(tmp_path, binaries), LineReporter(io.StringIO()))
    assert not os.path.exists(tmp_path / "layout")


def test_a_dynamic_object_is_refused(tmp_path, binaries):
    with open(binaries["linux/amd64"], "wb") as f:
        f.write(elf_header(62, True, True, elf_type=1))
    with pytest.raises(BuildError, match="not an executable"):
        build(_plan(tmp_path, binaries), LineReporter(io.StringIO()))


def test_sboms_go_to_sbom_dir_one_per_platform_and_one_for_the_index(tmp_path, binaries):
    [built] = build(_plan(tmp_path, binaries, sbom_dir=str(tmp_path / "sboms")), LineReporter(io.StringIO()))
    names = sorted(os.listdir(tmp_path / "sboms"))
    assert len(names) == 3 and len(built.sboms) == 3
    index_sbom = json.loads(built.sboms[-1].document)
    assert index_sbom["spdxVersion"] == "SPDX-2.3" and built.sboms[-1].subject == built.index.digest


def test_two_images_with_one_name_are_refused(tmp_path):
    from pyko.commands.build import _Job, _refuse_twins

    class _Build:
        def __init__(self, path):
            self.path = path

    jobs = [_Job(_Build(p), None, (), None, None, "app", None) for p in ("./a", "./b")]
    with pytest.raises(UsageError, match=r"two images would be named app \(./a and ./b\)"):
        _refuse_twins(jobs)


def test_a_ko_user_gets_kos_printed_references(tmp_path, binaries):
    def built(**flags):
        environ = {"PYKO_CACHE_DIR": str(tmp_path / "cache"), "PYKO_KO_MODE": "true", "KO_DOCKER_REPO": "r.io/t"}
        plan = resolve(Flags(binaries=tuple(binaries.items()), name="tool", push=False, **flags), Config(), environ)
        return build(plan, LineReporter(io.StringIO()))[0]

    layout = str(tmp_path / "layout")
    into_layout = built(oci_layout=layout)
    assert into_layout.reference == f"{layout}@{into_layout.index.digest}"          # ko's layout publisher
    nowhere = built()
    assert nowhere.reference == f"r.io/t/tool:latest@{nowhere.index.digest}"        # ko's no-op publisher
    tagged = built(tags=("v1", "v2"))
    assert tagged.reference == f"r.io/t/tool:v1@{tagged.index.digest}"              # its first tag
    tarball = built(tarball=str(tmp_path / "t.tar"), oci_layout=layout)
    assert tarball.reference == f"r.io/t/tool@{tarball.index.digest}"               # the tarball's, as pyko's


def test_a_ko_users_one_platform_is_an_image_alone_named_signed_and_described_as_such(tmp_path, binaries):
    """As ko: one platform is written as the image itself, no index; the reference, the SBOMs and what
    is signed are the image's. Two platforms, or pyko's own run, keep the index."""
    from pyko.commands.build import _subjects

    def built(environ, platforms):
        environ = {"PYKO_CACHE_DIR": str(tmp_path / "cache"), **environ}
        chosen = tuple((p, f) for p, f in binaries.items() if p in platforms)
        plan = resolve(Flags(binaries=chosen, name="tool", oci_layout=str(tmp_path / "layout"),
                             sbom_dir=str(tmp_path / "sboms")), Config(), environ)
        return build(plan, LineReporter(io.StringIO()))[0]

    ko = {"PYKO_KO_MODE": "true"}
    alone = built(ko, ("linux/amd64",))
    image, = alone.index.images
    assert alone.alone and alone.top is image and alone.reference == f"{tmp_path / 'layout'}@{image.digest}"
    assert [s.subject for s in alone.sboms] == [image.digest]                            # no index SBOM
    assert [(s.descriptor.digest, s.signed) for s in _subjects(alone, recursive=False)] == [(image.digest, True)]
    assert oci_layout.find(str(tmp_path / "layout"), "tool:latest").digest == image.digest
    for environ, platforms in ((ko, ("linux/amd64", "linux/arm64")), ({}, ("linux/amd64",))):
        kept = built(environ, platforms)
        assert not kept.alone and kept.top is kept.index and kept.reference.endswith("@" + kept.index.digest)
        assert [s.signed for s in _subjects(kept, recursive=False)][0] is True and kept.sboms[-1].subject == \
            kept.index.digest
