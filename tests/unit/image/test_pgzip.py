"""Parallel gzip: one valid stream, the same bytes with any number of workers."""
import gzip
import io
import os

import pytest

from pyko.image.pgzip import BLOCK, ParallelGzipWriter


def _pgzip(data, workers, chunk=65536):
    out = io.BytesIO()
    with ParallelGzipWriter(out, 6, workers) as writer:
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
        with ParallelGzipWriter(out, 6, 2) as writer:
            writer.write(os.urandom(3 * BLOCK))
            raise RuntimeError("the tar stream failed")
    assert not out.getvalue().endswith(b"\0\0\0\0")  # no trailer: not a complete stream
