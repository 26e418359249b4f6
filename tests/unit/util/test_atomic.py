"""The one atomic-write sequence: all or nothing, secrets born 0600, names decided after writing."""
import os
import stat

import pytest

from pyko.util.atomic import atomic_file, atomic_file_named_later, default_mode, write_bytes


def _entries(directory):
    return sorted(os.listdir(directory))


def test_a_finished_write_replaces_the_file_with_the_umasks_mode(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    write_bytes(str(path), b"new")
    assert path.read_bytes() == b"new" and _entries(tmp_path) == ["f"]
    assert stat.S_IMODE(path.stat().st_mode) == default_mode()


def test_a_failed_write_leaves_the_old_file_and_no_debris(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_file(str(path)) as f:
            f.write(b"half")
            raise RuntimeError("killed halfway")
    assert path.read_bytes() == b"old" and _entries(tmp_path) == ["f"]


def test_a_secret_is_never_readable_by_others(tmp_path):
    path = tmp_path / "key"
    with atomic_file(str(path), mode=0o600) as f:
        temp = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        assert len(temp) == 1 and stat.S_IMODE(os.stat(tmp_path / temp[0]).st_mode) == 0o600
        f.write(b"secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_named_after_its_content(tmp_path):
    written = {}
    with atomic_file_named_later(str(tmp_path), lambda: written["name"], durable=False) as f:
        f.write(b"abc")
        written["name"] = "named-after-abc"
    assert (tmp_path / "named-after-abc").read_bytes() == b"abc" and _entries(tmp_path) == ["named-after-abc"]


def test_a_file_named_later_that_fails_leaves_nothing(tmp_path):
    with pytest.raises(KeyError):
        with atomic_file_named_later(str(tmp_path), lambda: {}["never decided"]) as f:
            f.write(b"abc")
    assert _entries(tmp_path) == []
