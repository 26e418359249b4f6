"""toolchains/prebuilt.py: given files become tasks that only hand back their path."""
import pytest

from pyko.errors import UsageError
from pyko.platforms import Platform
from pyko.toolchains import Source
from pyko.toolchains.prebuilt import PrebuiltDriver, prebuilt_target

AMD64, ARM64 = Platform.parse("linux/amd64"), Platform.parse("linux/arm64")


def test_each_file_is_a_task_keyed_by_its_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "tool-amd64").write_bytes(b"\x7fELF")
    (tmp_path / "tool-arm64").write_bytes(b"\x7fELF")
    monkeypatch.chdir(tmp_path)
    source = Source("", "tool", binaries={AMD64: "tool-amd64", ARM64: "tool-arm64"})
    assert PrebuiltDriver().claims(source) and not PrebuiltDriver().claims(Source(str(tmp_path)))
    target = prebuilt_target(source)
    assert target.name == "tool" and set(target.tasks) == {AMD64, ARM64}
    assert target.tasks[AMD64].run() == str(tmp_path / "tool-amd64")
    assert target.tasks[AMD64].key == ("prebuilt", str(tmp_path / "tool-amd64"))
    assert target.tasks[ARM64].label == "tool linux/arm64"


def test_a_missing_file_is_named_with_its_platform(tmp_path):
    with pytest.raises(UsageError, match="--binary linux/amd64=.*absent: no such file"):
        prebuilt_target(Source("", "tool", binaries={AMD64: str(tmp_path / "absent")}))
