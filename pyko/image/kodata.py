"""ko-compatible static assets: `kodata/` beside the main package, shipped at /var/run/ko.

Symlinks are followed (they become plain files or directories in the image)
but must stay inside kodata/, so a build can never pack e.g. ~/.ssh by accident.
Modes are normalised to 0644/0755, so neither umask nor setuid bits leak in.
"""
from __future__ import annotations

import os
import stat
from typing import List

from ..errors import BuildError
from .layer import TarEntry, dir_entry, file_entry

KODATA_DIR = "kodata"
KODATA_PATH = "/var/run/ko"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def kodata_entries(kodata_dir: str, dest: str = KODATA_PATH) -> List[TarEntry]:
    """The layer entries for everything under `kodata_dir`, placed at `dest`."""
    root = os.path.realpath(kodata_dir)
    entries = [dir_entry(dest)]
    _walk(root, root, dest, entries, active={root})
    return entries


def _walk(real_dir: str, root: str, dest: str, entries: list, active: set) -> None:
    for name in sorted(os.listdir(real_dir)):
        path = os.path.join(real_dir, name)
        target = os.path.realpath(path)
        shown = os.path.relpath(path, os.path.dirname(root))
        if os.path.islink(path) and not _inside(target, root):
            raise BuildError(
                f"{shown} is a symlink to {target}, outside kodata/; copy the file into kodata/ instead"
            )
        try:
            st = os.stat(target)
        except FileNotFoundError:
            raise BuildError(f"{shown} is a broken symlink; remove it or fix its target") from None
        out = f"{dest}/{name}"
        if stat.S_ISDIR(st.st_mode):
            if target in active:
                raise BuildError(f"{shown} is a symlink loop inside kodata/")
            entries.append(dir_entry(out))
            _walk(target, root, out, entries, active | {target})
        elif stat.S_ISREG(st.st_mode):
            mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
            entries.append(file_entry(out, source=target, mode=mode))
        else:
            raise BuildError(f"{shown} is not a regular file or directory; kodata/ can only hold files")
