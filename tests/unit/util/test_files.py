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


def test_a_fifo_is_refused_without_blocking(tmp_path):
    """open() on a FIFO waits for a writer: pyko must not (the old key reader hung forever)."""
    import os
    import threading

    fifo = tmp_path / "key"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_refusal(str(fifo))), daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and "is not a regular file" in outcome[0]


def _refusal(path):
    try:
        read_capped(path, 100, "key")
    except UsageError as err:
        return str(err)
    return "read"


def test_a_huge_file_is_not_read_whole(tmp_path):
    import tracemalloc

    path = tmp_path / "big.key"
    with open(path, "wb") as f:
        f.truncate(50 << 20)
    tracemalloc.start()
    with pytest.raises(UsageError, match="is larger than 65536 bytes"):
        read_capped(str(path), 64 << 10, "key")
    assert tracemalloc.get_traced_memory()[1] < 1 << 20
    tracemalloc.stop()
