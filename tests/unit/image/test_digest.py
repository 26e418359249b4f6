"""image/digest.py: only the registered algorithms in their exact form; nothing else becomes a path."""
import hashlib

import pytest

from pyko.errors import MalformedInput
from pyko.image.digest import check_digest, digest_of, digest_parts, file_digest, hasher_for, is_digest

GOOD = "sha256:" + "a" * 64


@pytest.mark.parametrize("text", [GOOD, "sha512:" + "0" * 128])
def test_valid_digests(text):
    assert is_digest(text) and check_digest(text) == text


@pytest.mark.parametrize("text", ["sha256:../../etc/passwd", "sha256:" + "A" * 64, "sha256:" + "a" * 63,
                                  "md5:" + "a" * 32, "sha256" + "a" * 64, "", None, 7, "sha256:" + "a" * 64 + "\n"])
def test_everything_else_is_refused_naming_where_it_came_from(text):
    assert not is_digest(text)
    with pytest.raises(MalformedInput, match="index.json: .* is not a valid digest"):
        check_digest(text, "index.json")


def test_parts_hashers_and_file_digests(tmp_path):
    assert digest_parts(GOOD) == ("sha256", "a" * 64)
    assert hasher_for("sha512:" + "0" * 128).name == "sha512"
    path = tmp_path / "f"
    data = b"x" * (3 << 20)  # read in pieces
    path.write_bytes(data)
    assert file_digest(str(path)) == digest_of(data) == "sha256:" + hashlib.sha256(data).hexdigest()
