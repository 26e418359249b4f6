"""util/files.py: reads of outside files are capped, and fail as one UsageError."""
import pytest

from pyko.errors import UsageError
from pyko.util.files import read_capped


def test_up_to_the_cap_is_read_whole(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_capped(str(path), 10, "the file") == b"x" * 10


def test_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 11)
    with pytest.raises(UsageError, match="the key .* is larger than 10 bytes"):
        read_capped(str(path), 10, "the key")


def test_a_missing_file_says_why(tmp_path):
    with pytest.raises(UsageError, match="cannot read the root .*No such file"):
        read_capped(str(tmp_path / "absent"), 10, "the root")
