import pytest

from pyko.errors import UsageError
from pyko.platforms import ALL_LINUX, Platform, parse_platforms


@pytest.mark.parametrize("text, goenv", [
    ("linux/amd64", {"GOOS": "linux", "GOARCH": "amd64"}),
    ("linux/386", {"GOOS": "linux", "GOARCH": "386"}),
    ("linux/arm64", {"GOOS": "linux", "GOARCH": "arm64"}),
    ("linux/arm/v6", {"GOOS": "linux", "GOARCH": "arm", "GOARM": "6"}),
    ("linux/arm/v7", {"GOOS": "linux", "GOARCH": "arm", "GOARM": "7"}),
    ("linux/ppc64le", {"GOOS": "linux", "GOARCH": "ppc64le"}),
    ("linux/riscv64", {"GOOS": "linux", "GOARCH": "riscv64"}),
    ("linux/s390x", {"GOOS": "linux", "GOARCH": "s390x"}),
])
def test_go_env(text, goenv):
    assert Platform.parse(text).go_env() == goenv


def test_normalisation():
    assert Platform.parse("linux/arm") == Platform("linux", "arm", "v7")
    assert Platform.parse("linux/arm64/v8") == Platform("linux", "arm64")
    assert Platform.parse("Linux/x86_64") == Platform("linux", "amd64")
    assert str(Platform.parse("linux/arm/v6")) == "linux/arm/v6"
    assert Platform.parse("linux/arm/v6").to_oci() == {"architecture": "arm", "os": "linux", "variant": "v6"}


def test_parse_platforms_all_and_lists():
    assert [str(p) for p in parse_platforms(["all"])] == list(ALL_LINUX)
    assert [str(p) for p in parse_platforms(["linux/amd64,linux/arm64", "linux/amd64"])] == \
        ["linux/amd64", "linux/arm64"]


@pytest.mark.parametrize("values, message", [
    (["linux/mips"], "unknown platform"),
    (["all", "linux/amd64"], "cannot be combined"),
    (["amd64"], "expected os/arch"),
])
def test_bad_platforms(values, message):
    with pytest.raises(UsageError, match=message):
        parse_platforms(values)


def test_only_what_the_base_offers():
    two = [Platform.parse("linux/amd64"), Platform.parse("linux/arm64")]
    assert parse_platforms(["all"], available=two) == two
    with pytest.raises(UsageError, match="offers linux/amd64, linux/arm64"):
        parse_platforms(["linux/s390x"], available=two)
