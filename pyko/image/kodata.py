"""ko-compatible static assets: `kodata/` beside the main package, shipped at /var/run/ko.

Symlinks are followed (they become plain files or directories in the image),
but kodata/ itself and every symlink in it must resolve inside the allowed
root: for pyko's own projects the package directory, for a ko user's run kodata/
itself (as ko confines them), unless PYKO_DATA_PATH_ALLOWED_ROOT names a wider one
(KO_DATA_PATH_ALLOWED_ROOT is read as another spelling of it; ko itself has no such
variable). So a build can never pack e.g. ~/.ssh because kodata, or a link in it,
points there. Modes are normalised, so neither umask nor setuid bits leak in:
0644/0755 for pyko's own projects, ko's 0555 for every file and directory in ko mode.

The walk is bounded by what is on disk, not by how links multiply it: each real
directory is packed once (a second link to a directory already packed, which is
how ten links at each of five levels become 100,000 files, is refused naming the
link), and kodata/ holds at most MAX_ENTRIES entries.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import Any, Dict, List, Set, Tuple

from ..errors import BuildError
from .digest import file_digest
from .layer import TarEntry, dir_entry, file_entry

KODATA_DIR = "kodata"
KODATA_PATH = "/var/run/ko"
MAX_ENTRIES = 50_000


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def allowed_root(package_dir: str, allowed: str = "", ko_mode: bool = False) -> str:
    """Where kodata and its symlinks may point: the root the user allows (PYKO_DATA_PATH_ALLOWED_ROOT,
    read by the plan), else kodata/ itself for a ko user (ko's rule), else the package directory."""
    return allowed or (os.path.join(package_dir, KODATA_DIR) if ko_mode else package_dir)


_HINT = "copy the files into kodata/, or set PYKO_DATA_PATH_ALLOWED_ROOT to a directory that holds them"
KO_MODE = 0o555     # ko's mode for every file and directory it packs: kodata, /ko-app and the binaries


def ko_empty_kodata() -> List[TarEntry]:
    """What ko packs for a package with no kodata/: /var/run/ko alone (ko always adds the layer, and
    KO_DATA_PATH with it, so an app may rely on the variable being set)."""
    return _kodata_root(KODATA_PATH, ko_modes=True)


def _kodata_root(dest: str, ko_modes: bool) -> List[TarEntry]:
    """`dest` itself; for a ko user, with its parents (/var, /var/run), as ko writes them, all 0555."""
    if not ko_modes:
        return [dir_entry(dest)]
    parts = dest.strip("/").split("/")
    return [dir_entry("/" + "/".join(parts[:n]), mode=KO_MODE) for n in range(1, len(parts) + 1)]


def kodata_entries(kodata_dir: str, root: str, dest: str = KODATA_PATH, ko_modes: bool = False) -> List[TarEntry]:
    """The layer entries for everything under `kodata_dir`, placed at `dest`; every path must resolve
    inside `root` (see allowed_root); with `ko_modes`, every entry has ko's mode 0555."""
    root = os.path.realpath(root)
    real = _resolve(kodata_dir, kodata_dir)
    if not _inside(real, root):
        raise BuildError(f"{kodata_dir} resolves to {real}, outside {root}; {_HINT}")
    if not os.path.isdir(real):
        raise BuildError(f"{kodata_dir} is not a directory; kodata/ must be a directory of files")
    entries = _kodata_root(dest, ko_modes)
    _walk(real, root, kodata_dir, dest, entries, active={real}, packed={real: kodata_dir}, ko_modes=ko_modes)
    return entries


def _resolve(path: str, shown: str) -> str:
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        raise BuildError(f"{shown} is a broken symlink; remove it or fix its target") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise BuildError(f"{shown} is a symlink loop; remove it") from None
        raise BuildError(f"{shown} cannot be read: {err.strerror}") from None


def _walk(real_dir: str, root: str, shown_dir: str, dest: str, entries: List[Any], active: Set[str],
          packed: Dict[str, str], ko_modes: bool = False) -> None:
    for name in sorted(os.listdir(real_dir)):
        if len(entries) >= MAX_ENTRIES:
            raise BuildError(f"{shown_dir} makes kodata/ hold more than {MAX_ENTRIES} entries; "
                             "ship fewer files, or an archive of them")
        path = os.path.join(real_dir, name)
        shown = os.path.join(shown_dir, name)
        target = _resolve(path, shown)
        if not _inside(target, root):
            raise BuildError(f"{shown} is a symlink to {target}, outside {root}; {_HINT}")
        st = os.stat(target)
        out = f"{dest}/{name}"
        if stat.S_ISDIR(st.st_mode):
            if target in active:
                raise BuildError(f"{shown} is a symlink loop inside kodata/")
            if target in packed:
                raise BuildError(f"{shown} is a symlink to {target}, which {packed[target]} already packs; "
                                 "each directory is packed once: link the files you need, or copy the directory")
            packed[target] = shown
            entries.append(dir_entry(out, mode=KO_MODE if ko_modes else 0o755))
            _walk(target, root, shown, out, entries, active | {target}, packed, ko_modes)
        elif stat.S_ISREG(st.st_mode):
            mode = KO_MODE if ko_modes else 0o755 if st.st_mode & stat.S_IXUSR else 0o644
            entries.append(file_entry(out, source=target, mode=mode))
        else:
            raise BuildError(f"{shown} is not a regular file or directory; kodata/ can only hold files")


def merge_kodata(found: List[Tuple[str, List[TarEntry]]]) -> List[TarEntry]:
    """The kodata of several binaries in one image: the union of their entries. A path that two
    of them hold with different content (or as a file and a directory) is an error naming both."""
    merged: Dict[str, Tuple[str, TarEntry]] = {}
    for kodata_dir, entries in found:
        for entry in entries:
            seen = merged.get(entry.path)
            if seen is None:
                merged[entry.path] = (kodata_dir, entry)
            elif not _same(seen[1], entry):
                raise BuildError(f"/{entry.path} differs between {seen[0]} and {kodata_dir}: binaries in one "
                                 "image share /var/run/ko, so a file in both must be the same")
    return [entry for _, entry in merged.values()]


def _same(one: TarEntry, other: TarEntry) -> bool:
    if one.kind != other.kind:
        return False
    if one.kind != "file":
        return True
    return one.mode == other.mode and file_digest(one.source_file()) == file_digest(other.source_file())
