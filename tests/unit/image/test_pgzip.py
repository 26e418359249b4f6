"""Parallel gzip: one valid stream, the same bytes with any number of workers."""
import gzip
import io
import os

import pytest

from pyko.image.pgzip import BLOCK, ParallelGzipWriter, compat, pinned


def _pgzip(data, workers, chunk=65536, deflater=None):
    out = io.BytesIO()
    with ParallelGzipWriter(out, deflater or compat(), workers) as writer:
        for i in range(0, len(data), chunk):
            writer.write(data[i:i + chunk])
    return out.getvalue()


def _gzipfile(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as g:
        g.write(data)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12345])
def test_same_bytes_whatever_the_workers_and_write_sizes(size):
    data = (os.urandom(4096) + bytes(60000)) * (size // 64096 + 1)
    data = data[:size]
    outputs = {_pgzip(data, 1), _pgzip(data, 2), _pgzip(data, 4, chunk=777), _pgzip(data, 3, chunk=BLOCK + 3)}
    assert len(outputs) == 1
    compressed = outputs.pop()
    assert gzip.decompress(compressed) == data
    if size <= BLOCK:
        assert compressed == _gzipfile(data)  # one block: exactly what gzip.GzipFile writes
    else:
        assert len(compressed) < len(_gzipfile(data)) * 1.01  # priming each block keeps the ratio


def test_nothing_is_written_after_a_failure():
    out = io.BytesIO()
    with pytest.raises(RuntimeError):
        with ParallelGzipWriter(out, pinned(), 2) as writer:
            writer.write(os.urandom(3 * BLOCK))
            raise RuntimeError("the tar stream failed")
    assert not out.getvalue().endswith(b"\0\0\0\0")  # no trailer: not a complete stream


def test_the_pinned_deflate_gives_the_recorded_bytes_with_any_number_of_workers():
    from deflate_probe import RECORDED, compressed_sha256, fixed_input

    data = fixed_input()
    assert {compressed_sha256(data, workers)[0] for workers in (1, 2, 8)} == {RECORDED}


def test_the_deflater_is_named_in_full():
    deflater = pinned()
    assert (deflater.library, deflater.version, deflater.level) == ("zlib-ng", "2.3.3", 2)
    assert deflater.recipe == "zlib-ng-2.3.3-level-2" and compat().library == "zlib"
    assert deflater.provenance() == {"library": "zlib-ng", "version": "2.3.3", "level": 2}


def test_without_the_zlib_ng_wheel_a_build_says_so_in_one_line_and_names_the_way_out(monkeypatch):
    import sys

    from pyko.errors import UsageError

    monkeypatch.setitem(sys.modules, "zlib_ng", None)   # what an import of a missing package does
    with pytest.raises(UsageError, match="zlib-ng package, which is not installed") as err:
        pinned()
    assert "--compression-compat" in str(err.value) and "\n" not in str(err.value)
    assert compat().library == "zlib"   # the named way out still works
