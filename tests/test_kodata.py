import os

import pytest

from pyko.errors import BuildError
from pyko.image.kodata import kodata_entries


def test_files_dirs_and_modes(tmp_path):
    k = tmp_path / "kodata"
    (k / "sub").mkdir(parents=True)
    (k / "a.txt").write_text("a")
    (k / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(k / "sub" / "run.sh", 0o4775)  # setuid and group-write must not survive
    os.chmod(k / "a.txt", 0o664)
    entries = {e.path: e for e in kodata_entries(str(k))}
    assert set(entries) == {"var/run/ko", "var/run/ko/a.txt", "var/run/ko/sub", "var/run/ko/sub/run.sh"}
    assert entries["var/run/ko/sub/run.sh"].mode == 0o755
    assert entries["var/run/ko/a.txt"].mode == 0o644
    assert all(e.uid == 0 and e.gid == 0 for e in entries.values())


def test_symlinks_inside_are_followed(tmp_path):
    k = tmp_path / "kodata"
    k.mkdir()
    (k / "real.txt").write_text("r")
    os.symlink("real.txt", k / "link.txt")
    entries = {e.path: e for e in kodata_entries(str(k))}
    assert entries["var/run/ko/link.txt"].kind == "file"
    assert entries["var/run/ko/link.txt"].source == str(k / "real.txt")


def test_symlink_escaping_kodata_is_refused(tmp_path):
    k = tmp_path / "kodata"
    k.mkdir()
    (tmp_path / "secret").write_text("s")
    os.symlink("../secret", k / "leak")
    with pytest.raises(BuildError, match="outside kodata/"):
        kodata_entries(str(k))


def test_symlink_loop_is_refused(tmp_path):
    k = tmp_path / "kodata"
    (k / "d").mkdir(parents=True)
    os.symlink("..", k / "d" / "up")
    with pytest.raises(BuildError, match="loop"):
        kodata_entries(str(k))
