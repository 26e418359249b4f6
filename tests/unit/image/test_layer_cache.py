"""The layer cache: a hit skips tar and gzip; any change misses; damage is rebuilt."""
import json
import os

import pytest

from pyko.image import layer as layer_module
from pyko.image.layer import dir_entry, file_entry
from pyko.image.layer_cache import LayerCache, layer_key


@pytest.fixture
def binary(tmp_path):
    path = tmp_path / "app"
    path.write_bytes(os.urandom(200_000))
    return path


@pytest.fixture
def writes(monkeypatch):
    """Counts real layer writes (tar + gzip)."""
    calls = []
    real = layer_module.write_layer
    monkeypatch.setattr("pyko.image.layer_cache.write_layer", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _entries(binary, mode=0o755):
    return [dir_entry("/ko-app"), file_entry("/ko-app/app", source=str(binary), mode=mode)]


def test_a_hit_gives_the_same_layer_without_writing_it(tmp_path, binary, writes):
    cache = LayerCache(str(tmp_path / "cache"))
    first = cache.layer(_entries(binary), 1700000000, {"comment": "x"})
    second = LayerCache(str(tmp_path / "cache")).layer(_entries(binary), 1700000000, {"comment": "y"})
    assert len(writes) == 1
    assert (second.descriptor, second.diff_id) == (first.descriptor, first.diff_id)
    assert second.history == {"comment": "y"}  # history is the image's, not part of the key


def test_every_change_misses(tmp_path, binary, writes, monkeypatch):
    cache = LayerCache(str(tmp_path / "cache"))
    base = cache.layer(_entries(binary), 0).descriptor.digest
    keys = {layer_key(_entries(binary), 0)}
    keys.add(layer_key(_entries(binary, mode=0o700), 0))
    keys.add(layer_key(_entries(binary), 1))
    binary.write_bytes(binary.read_bytes()[:-1] + b"!")
    keys.add(layer_key(_entries(binary), 0))
    # Another deflater (library, version or level) is another key: one's bytes never serve another.
    from pyko.image.pgzip import Deflater, compat, pinned

    keys.add(layer_key(_entries(binary), 0, compat()))
    keys.add(layer_key(_entries(binary), 0, Deflater(pinned().library, "9.9.9", pinned().level, pinned().module)))
    keys.add(layer_key(_entries(binary), 0, Deflater(pinned().library, pinned().version, 3, pinned().module)))
    assert layer_key(_entries(binary), 0) == layer_key(_entries(binary), 0, pinned())
    assert len(keys) == 7
    assert cache.layer(_entries(binary), 0).descriptor.digest != base  # the changed binary, really rebuilt


@pytest.mark.parametrize("damage", ["blob-bytes", "blob-missing", "record-garbage", "record-wrong-digest"])
def test_damage_is_rebuilt_never_used(tmp_path, binary, writes, damage):
    root = tmp_path / "cache"
    good = LayerCache(str(root)).layer(_entries(binary), 0)
    blob = root / "blobs" / "sha256" / good.descriptor.hex
    record = root / "layers" / (layer_key(_entries(binary), 0) + ".json")
    if damage == "blob-bytes":
        data = bytearray(blob.read_bytes())
        data[100] ^= 0xFF
        blob.write_bytes(bytes(data))
    elif damage == "blob-missing":
        blob.unlink()
    elif damage == "record-garbage":
        record.write_text("[[[")
    else:
        record.write_text(json.dumps({"digest": "sha256:" + "0" * 64, "size": 5, "diff_id": good.diff_id}))
    again = LayerCache(str(root)).layer(_entries(binary), 0)
    assert len(writes) == 2
    assert again.descriptor == good.descriptor
    import hashlib
    assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == good.descriptor.digest
