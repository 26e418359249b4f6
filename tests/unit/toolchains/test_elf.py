"""The ELF check on crafted headers: every platform's machine, class and byte order accepted for
itself and refused for every other; big-endian ppc64, objects, text and truncated files.
Real binaries from real compilers are checked in tests/e2e/test_elf_on_real_binaries.py."""
import pytest

from pyko.errors import BuildError
from pyko.platforms import Platform
from pyko.toolchains.elf import check_static_for, read_elf

from elf_headers import HEADERS, elf_header
from oci_tools import ALL8


def test_the_table_covers_every_platform():
    assert sorted(HEADERS) == sorted(ALL8)


@pytest.mark.parametrize("built_for", sorted(HEADERS))
def test_every_platforms_binary_matches_its_platform_only(tmp_path, built_for):
    path = tmp_path / "app"
    path.write_bytes(elf_header(*HEADERS[built_for]))
    for packed_for in sorted(HEADERS):
        platform = Platform.parse(packed_for)
        if HEADERS[packed_for] == HEADERS[built_for]:
            assert check_static_for(str(path), platform).machine == HEADERS[built_for][0]
        else:
            with pytest.raises(BuildError, match=f"packed for {packed_for}"):
                check_static_for(str(path), platform)


def test_big_endian_ppc64_is_not_ppc64le(tmp_path):
    path = tmp_path / "ppc64"
    path.write_bytes(elf_header(21, True, False))
    with pytest.raises(BuildError, match="big-endian, but it is packed for linux/ppc64le"):
        check_static_for(str(path), Platform.parse("linux/ppc64le"))
    path.write_bytes(elf_header(21, True, True))
    check_static_for(str(path), Platform.parse("linux/ppc64le"))


def test_object_files_text_and_truncation(tmp_path):
    obj = tmp_path / "x.o"
    obj.write_bytes(elf_header(62, True, True, elf_type=1))
    with pytest.raises(BuildError, match="not an executable"):
        check_static_for(str(obj), Platform.parse("linux/amd64"))
    text = tmp_path / "run.sh"
    text.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(BuildError, match="not an ELF executable"):
        read_elf(str(text))
    cut = tmp_path / "cut"
    cut.write_bytes(elf_header(62, True, True)[:30])
    with pytest.raises(BuildError, match="truncated"):
        read_elf(str(cut))
