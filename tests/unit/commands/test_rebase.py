"""commands/rebase.py: an image in a layout moved onto a base; refused when it cannot say what it
was built on, or when the new base lacks one of its platforms."""
import io

import pytest

from pyko.commands.build import build
from pyko.commands.rebase import RebaseRequest, write_rebased
from pyko.errors import UsageError
from pyko.image.rebased import RebaseError
from pyko.plan.config import Config
from pyko.plan.resolve import Flags, resolve
from pyko.transport.oci_layout_images import LayoutImage
from pyko.transport.registry.hosts import Registries
from pyko.transport.registry.http import TransportOptions
from pyko.util.progress import LineReporter, SilentReporter

from elf_headers import static_binary_for
from tiny_images import tiny_image


@pytest.fixture
def built(tmp_path):
    binary = tmp_path / "tool"
    binary.write_bytes(static_binary_for("linux/amd64"))
    plan = resolve(Flags(binaries=(("linux/amd64", str(binary)),), name="tool", tags=("v1",),
                         oci_layout=str(tmp_path / "layout")), Config(), {"PYKO_CACHE_DIR": str(tmp_path / "cache")})
    return build(plan, SilentReporter())[0]


def _rebase(tmp_path, **request):
    stream = io.StringIO()
    reference = write_rebased(RebaseRequest(image="tool:v1", oci_layout=str(tmp_path / "layout"), **request),
                              str(tmp_path / "cache"), Registries(TransportOptions()), None, LineReporter(stream))
    return reference, stream.getvalue()


def test_the_app_layers_and_command_stay_and_the_result_is_written_back(tmp_path, built):
    reference, said = _rebase(tmp_path, new_base="pyko://static", old_base="pyko://static", tags=("rebased",))
    rebased = LayoutImage(str(tmp_path / "layout"), "tool:rebased")
    assert reference == f"tool@{rebased.digest}" and "wrote tool:rebased" in said
    before, after = built.index.images[0], rebased.image_for(built.index.images[0].platform)
    assert [layer.descriptor for layer in after.layers] == [layer.descriptor for layer in before.layers]
    assert after.config_json()["config"]["Cmd"] == ["/ko-app/tool"]
    assert sorted(after.config_json()["config"]["Env"]) == sorted(before.config_json()["config"]["Env"])


def test_without_annotations_the_old_base_must_be_given(tmp_path, built):
    with pytest.raises(UsageError, match="does not say what it was built on .* give --old-base"):
        _rebase(tmp_path, new_base="pyko://static")


def test_the_old_base_must_be_the_images_bottom_layers(tmp_path, built):
    from pyko.image import Index


    other = tiny_image("amd64", b"not the base")
    with pytest.raises(RebaseError):
        from pyko.commands.bases import BuiltinBase
        from pyko.commands.rebase import rebased_index

        class _Other:
            name = "other"

            def platforms(self):
                return Index.build([other]).platforms()

            def image_for(self, platform):
                return other

            def annotations(self, platform=None):
                return {}

        opener = {"pyko://static": BuiltinBase(str(tmp_path / "cache")), "other": _Other()}.__getitem__
        rebased_index(LayoutImage(str(tmp_path / "layout"), "tool:v1"),
                      RebaseRequest("tool:v1", "pyko://static", old_base="other"), opener, "tool:v1")


def test_an_image_written_alone_stays_alone_and_an_index_stays_an_index(tmp_path, built):
    """A ko user's one platform is an image with no index: rebased, it is written alone again."""
    binary = tmp_path / "ko-tool"
    binary.write_bytes(static_binary_for("linux/amd64"))
    plan = resolve(Flags(binaries=(("linux/amd64", str(binary)),), name="kotool", tags=("v1",),
                         oci_layout=str(tmp_path / "layout")), Config(),
                   {"PYKO_CACHE_DIR": str(tmp_path / "cache"), "PYKO_KO_MODE": "true"})
    assert build(plan, SilentReporter())[0].alone
    for name, media_type in (("kotool", "application/vnd.oci.image.manifest.v1+json"),
                             ("tool", "application/vnd.oci.image.index.v1+json")):
        reference = write_rebased(RebaseRequest(image=f"{name}:v1", oci_layout=str(tmp_path / "layout"),
                                                new_base="pyko://static", old_base="pyko://static",
                                                tags=("rebased",)),
                                  str(tmp_path / "cache"), Registries(TransportOptions()), None, SilentReporter())
        rebased = LayoutImage(str(tmp_path / "layout"), f"{name}:rebased")
        assert rebased.media_type == media_type and reference == f"{name}@{rebased.digest}"
