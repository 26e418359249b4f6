"""Writing files so that a reader (or a killed writer) never sees half of one."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import BinaryIO, Callable, ContextManager, Iterator, Optional, Protocol

from ..errors import OutputError


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


#: Read once at start-up (os.umask can only be read by setting it, which is not thread-safe).
UMASK = _umask()


def default_mode(directory: bool = False) -> int:
    """What a plain open()/mkdir() would give under the user's umask."""
    return (0o777 if directory else 0o666) & ~UMASK


@contextlib.contextmanager
def _pending(directory: str, prefix: str, final: Callable[[], str], mode: Optional[int],
             durable: bool) -> Iterator[BinaryIO]:
    """The one atomic-write sequence: a temp file in `directory`, renamed to `final()` only
    when the block succeeds, removed otherwise. The temp file is created 0600 (mkstemp), so
    a secret (mode=0o600) is never readable by others, not even for a moment; other files
    get the umask's mode. `durable` syncs the bytes to disk before the rename (a cache entry,
    checked on every read, need not pay for that)."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, final())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_file(path: str, mode: Optional[int] = None, durable: bool = True) -> ContextManager[BinaryIO]:
    """Write to a temp file beside `path`; rename it over `path` only on success."""
    directory = os.path.dirname(os.path.abspath(path))
    return _pending(directory, f".{os.path.basename(path)}.", lambda: path, mode, durable)


def atomic_file_named_later(directory: str, name: Callable[[], str], mode: Optional[int] = None,
                            durable: bool = True) -> ContextManager[BinaryIO]:
    """Like atomic_file, for a file whose name is known only once it is written (its digest):
    `name()` is asked after the block, and the file lands in `directory` under it."""
    return _pending(directory, ".pyko-", lambda: os.path.join(directory, name()), mode, durable)


def write_bytes(path: str, data: bytes, mode: Optional[int] = None) -> None:
    with atomic_file(path, mode) as f:
        f.write(data)


class Source(Protocol):
    """Anything read in chunks: a file, or a registry's body checked as it is read."""

    def read(self, n: int = -1, /) -> bytes: ...


def copy_stream(src: Source, path: str) -> None:
    with atomic_file(path) as f:
        shutil.copyfileobj(src, f, 1 << 20)


def check_directory_writable(directory: str, what: str) -> None:
    """Raise OutputError ("cannot write <what>: ...") unless a file can really
    be created in `directory`. os.access() is no answer for root, who passes
    it even on /proc or a read-only mount; creating (and removing) a file is."""
    if not os.path.isdir(directory):
        raise OutputError(f"cannot write {what}: {directory} is not an existing directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".pyko-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise OutputError(f"cannot write {what}: {err.strerror or err}") from None
