"""The one verified-blob cache: served only after hashing, bad copies removed, hashed once per file."""
import os

from pyko.image.blob_cache import BlobCache
from pyko.image.digest import sha256_digest


def test_a_written_blob_is_served_and_a_damaged_one_removed(tmp_path):
    cache = BlobCache(str(tmp_path))
    data = b"layer bytes"
    digest = sha256_digest(data)
    cache.write(digest, data)
    assert cache.has(digest, len(data)) and cache.read(digest, 100) == data
    assert not cache.has(digest, len(data) + 1)  # the wrong size is not this blob
    with open(cache.path(digest), "r+b") as f:
        f.write(b"L")  # same size, other bytes: a new mtime, so it is hashed again
    os.utime(cache.path(digest), ns=(1, 1))
    assert not cache.has(digest, len(data))
    assert not os.path.exists(cache.path(digest))


def test_a_planted_file_is_never_served(tmp_path):
    cache = BlobCache(str(tmp_path))
    digest = sha256_digest(b"what it should be")
    os.makedirs(cache.directory(), exist_ok=True)
    with open(cache.path(digest), "wb") as f:
        f.write(b"what an attacker put there")
    assert not cache.has(digest)
    assert not os.path.exists(cache.path(digest))


def test_a_verified_file_is_hashed_once(tmp_path, monkeypatch):
    cache = BlobCache(str(tmp_path))
    data = b"x" * 100
    digest = sha256_digest(data)
    cache.write(digest, data)
    calls = []
    import pyko.image.blob_cache as module

    real = module.file_digest
    monkeypatch.setattr(module, "file_digest", lambda *a: calls.append(1) or real(*a))
    assert cache.has(digest) and cache.has(digest) and cache.has(digest, 100)
    assert len(calls) == 1
