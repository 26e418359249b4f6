"""OCI layout writing: atomic, keeps what is there (unit level, with a tiny image)."""
import json
import os

import pytest

from pyko.errors import OutputError, UsageError
from pyko.image import Image, Index
from pyko.image.layer import file_entry, write_layer
from pyko.transport import oci_layout as layout


def tiny_index(tmp_path, content=b"x"):
    layer = write_layer([file_entry("/f", data=content)], str(tmp_path / "layers"))
    config = {"architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}
    return Index.build([Image.build(config, [layer])])


def test_new_layout(tmp_path):
    index = tiny_index(tmp_path)
    out = tmp_path / "out"
    layout.write_layout(str(out), index, [("app:latest", "docker.io/library/app:latest")])
    assert json.loads((out / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    doc = json.loads((out / "index.json").read_text())
    assert doc["manifests"][0]["digest"] == index.digest
    assert sorted(os.listdir(out / "blobs" / "sha256")) == sorted(b.descriptor.hex for b in index.all_blobs())
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".out")]  # no temp dir left


def test_failure_while_creating_leaves_nothing(tmp_path, monkeypatch):
    index = tiny_index(tmp_path)
    out = tmp_path / "out"

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(layout, "write_bytes", boom)
    with pytest.raises(OutputError, match="No space left"):
        layout.write_layout(str(out), index, [("app:latest", "")])
    assert not out.exists()
    assert os.listdir(tmp_path) == ["layers"]


def test_failure_while_updating_keeps_old_index(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = tiny_index(tmp_path, b"1")
    layout.write_layout(str(out), first, [("app:one", "")])
    before = (out / "index.json").read_bytes()

    real_copy = layout.copy_stream

    def dies_midway(src, path):
        with open(path + ".partial", "wb") as f:
            f.write(src.read(1))
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(layout, "copy_stream", dies_midway)
    with pytest.raises(OutputError):
        layout.write_layout(str(out), tiny_index(tmp_path, b"2"), [("app:two", "")])
    assert (out / "index.json").read_bytes() == before
    monkeypatch.setattr(layout, "copy_stream", real_copy)
    # every blob under its final name still hashes to that name
    import hashlib
    for name in os.listdir(out / "blobs" / "sha256"):
        if not name.endswith(".partial"):
            assert hashlib.sha256((out / "blobs" / "sha256" / name).read_bytes()).hexdigest() == name


def test_keeps_other_entries_and_moves_tags(tmp_path):
    out = tmp_path / "out"
    a, b = tiny_index(tmp_path, b"a"), tiny_index(tmp_path, b"b")
    layout.write_layout(str(out), a, [("app:one", ""), ("app:two", "")])
    layout.write_layout(str(out), b, [("app:two", "")])
    doc = json.loads((out / "index.json").read_text())
    got = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in doc["manifests"]}
    assert got == {"app:one": a.digest, "app:two": b.digest}


def test_check_writable(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="is a file"):   # a bad path: exit 2
        layout.check_writable(str(tmp_path / "f"))
    with pytest.raises(OutputError, match="not an existing directory"):
        layout.check_writable(str(tmp_path / "no" / "such"))
    layout.check_writable(str(tmp_path / "new"))  # fine: parent exists


@pytest.mark.parametrize("linked", ["blobs", "blobs/sha256"])
def test_a_layout_whose_blob_directories_are_links_is_refused_and_nothing_outside_changes(tmp_path, linked):
    path = tmp_path / "layout"
    layout.write_layout(str(path), Index.build([]), [("app:v1", "")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The directory moves out of the layout, and a link to it takes its place; beside its blobs lie
    # files named like a killed writer's debris, which pyko would delete in a directory of its own.
    target = path / linked
    moved = elsewhere / target.name
    target.rename(moved)
    target.symlink_to(moved)
    for directory in [moved, *[d for d in moved.rglob("*") if d.is_dir()]]:
        (directory / ".app.1234.tmp").write_text("someone else's")
    before = sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*"))
    with pytest.raises(OutputError, match=f"{linked} is a symlink; pyko writes only inside the layout"):
        layout.check_writable(str(path))
    with pytest.raises(OutputError, match=f"{linked} is a symlink"):
        layout.write_layout(str(path), Index.build([]), [("app:v2", "")])
    assert sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*")) == before
