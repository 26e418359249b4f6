"""The reproducible layer writer (unit level; the e2e tests unpack real layers with umoci)."""
import gzip
import hashlib
import io
import tarfile

import pytest

from pyko.image.layer import dir_entry, file_entry, symlink_entry, write_layer


def _members(layer):
    with open(layer.blob.path, "rb") as f:
        data = f.read()
    return data, tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))).getmembers()


def test_same_entries_same_bytes_whatever_the_order(tmp_path):
    entries = [file_entry("/b/x", data=b"1"), dir_entry("/a"), symlink_entry("/a/l", "../b/x")]
    one = write_layer(entries, str(tmp_path / "1"), mtime=5)
    two = write_layer(list(reversed(entries)), str(tmp_path / "2"), mtime=5)
    assert one.descriptor.digest == two.descriptor.digest
    assert one.diff_id == two.diff_id
    other = write_layer(entries, str(tmp_path / "3"), mtime=6)
    assert other.diff_id != one.diff_id


def test_digests_match_bytes_and_gzip_header_is_bare(tmp_path):
    layer = write_layer([file_entry("/etc/x", data=b"hello")], str(tmp_path))
    data, _ = _members(layer)
    assert layer.descriptor.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert layer.descriptor.size == len(data)
    assert layer.diff_id == "sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest()
    flags, mtime = data[3], data[4:8]
    assert flags == 0 and mtime == b"\0\0\0\0"  # no FNAME, no time


def test_parents_explicit_and_first_owners_numeric(tmp_path):
    layer = write_layer([file_entry("/a/b/c", data=b"x", mode=0o4755), dir_entry("/a-b"),
                         dir_entry("/t", mode=0o1777), dir_entry("/h", mode=0o700, uid=65532, gid=65532)],
                        str(tmp_path), mtime=7)
    _, members = _members(layer)
    assert [m.name for m in members] == ["a", "a/b", "a/b/c", "a-b", "h", "t"]
    by = {m.name: m for m in members}
    assert by["a"].isdir() and by["a"].mode == 0o755
    assert by["t"].mode == 0o1777
    assert (by["h"].uid, by["h"].gid, by["h"].mode) == (65532, 65532, 0o700)
    assert all(m.mtime == 7 and m.uname == "" and m.gname == "" for m in members)


def test_file_from_disk_is_streamed(tmp_path):
    src = tmp_path / "bin"
    src.write_bytes(b"\x7fELF" + bytes(100000))
    layer = write_layer([file_entry("/ko-app/x", source=str(src), mode=0o755)], str(tmp_path / "out"))
    data, members = _members(layer)
    tar = tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)))
    assert tar.extractfile("ko-app/x").read() == src.read_bytes()


def test_duplicate_paths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="duplicate path"):
        write_layer([file_entry("/x", data=b"1"), file_entry("x", data=b"2")], str(tmp_path))
