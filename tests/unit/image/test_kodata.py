import os

import pytest

from pyko.errors import BuildError
from pyko.image.kodata import allowed_root, kodata_entries

from hostile import link_fan_out


@pytest.fixture
def pkg(tmp_path):
    d = tmp_path / "pkg"
    (d / "kodata").mkdir(parents=True)
    return d


def entries_of(pkg, root=None):
    return {e.path: e for e in kodata_entries(str(pkg / "kodata"), str(root or pkg))}


def test_files_dirs_and_modes(pkg):
    k = pkg / "kodata"
    (k / "sub").mkdir()
    (k / "a.txt").write_text("a")
    (k / "sub" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(k / "sub" / "run.sh", 0o4775)  # setuid and group-write must not survive
    os.chmod(k / "a.txt", 0o664)
    entries = entries_of(pkg)
    assert set(entries) == {"var/run/ko", "var/run/ko/a.txt", "var/run/ko/sub", "var/run/ko/sub/run.sh"}
    assert entries["var/run/ko/sub/run.sh"].mode == 0o755
    assert entries["var/run/ko/a.txt"].mode == 0o644
    assert all(e.uid == 0 and e.gid == 0 for e in entries.values())


def test_symlinks_inside_the_package_are_followed(pkg):
    k = pkg / "kodata"
    (k / "real.txt").write_text("r")
    (pkg / "README").write_text("beside kodata, inside the package")
    os.symlink("real.txt", k / "link.txt")
    os.symlink("../README", k / "readme")
    entries = entries_of(pkg)
    assert entries["var/run/ko/link.txt"].kind == "file"
    assert entries["var/run/ko/link.txt"].source == str(k / "real.txt")
    assert entries["var/run/ko/readme"].source == str(pkg / "README")


def test_symlink_escaping_the_package_is_refused(pkg, tmp_path):
    (tmp_path / "secret").write_text("s")
    os.symlink("../../secret", pkg / "kodata" / "leak")
    with pytest.raises(BuildError, match=r"kodata/leak is a symlink to .*/secret, outside .*pkg; copy the files"):
        entries_of(pkg)


def test_kodata_itself_a_symlink_elsewhere_is_refused(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "id_rsa").write_text("private")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    os.symlink(secrets, pkg / "kodata")
    with pytest.raises(BuildError, match="resolves to .*secrets, outside .*pkg; .*KO_DATA_PATH_ALLOWED_ROOT"):
        entries_of(pkg)
    # The user can allow a wider root explicitly, as in ko.
    root = allowed_root(str(pkg), str(tmp_path))
    assert "var/run/ko/id_rsa" in entries_of(pkg, root)
    assert allowed_root(str(pkg)) == str(pkg)


@pytest.mark.parametrize("link", ["..", "self"])
def test_symlink_loops_are_a_clean_error(pkg, link):
    k = pkg / "kodata"
    (k / "d").mkdir()
    os.symlink(link, k / "d" / ("up" if link == ".." else "self"))
    with pytest.raises(BuildError, match="loop"):
        entries_of(pkg)


def test_broken_symlink(pkg):
    os.symlink("nowhere", pkg / "kodata" / "gone")
    with pytest.raises(BuildError, match="kodata/gone is a broken symlink"):
        entries_of(pkg)


def test_link_fan_out_is_refused_naming_the_link(tmp_path):
    """Five levels of ten links, each to the level below, would pack 100,000 files from 58 entries."""
    import time

    pkg = tmp_path / "pkg"
    link_fan_out(pkg / "kodata")
    started = time.process_time()
    packed_twice = r"kodata/l1/s0 is a symlink to .*/kodata/l0, which .*/kodata/l0 already packs"
    with pytest.raises(BuildError, match=packed_twice):
        kodata_entries(str(pkg / "kodata"), str(pkg))
    assert time.process_time() - started < 1.0


def test_two_links_to_one_file_are_fine_and_entries_are_capped(tmp_path, monkeypatch):
    import pyko.image.kodata as kodata

    pkg = tmp_path / "pkg"
    (pkg / "kodata").mkdir(parents=True)
    (pkg / "kodata" / "real.txt").write_text("x")
    (pkg / "kodata" / "a.txt").symlink_to(pkg / "kodata" / "real.txt")
    (pkg / "kodata" / "b.txt").symlink_to(pkg / "kodata" / "real.txt")
    assert len(kodata_entries(str(pkg / "kodata"), str(pkg))) == 4
    monkeypatch.setattr(kodata, "MAX_ENTRIES", 2)
    with pytest.raises(BuildError, match="more than 2 entries"):
        kodata_entries(str(pkg / "kodata"), str(pkg))


def test_a_ko_users_kodata_has_kos_modes_and_links_confined_to_kodata(pkg):
    k = pkg / "kodata"
    (k / "sub").mkdir()
    (k / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(k / "run.sh", 0o4755)
    (k / "sub" / "a.txt").write_text("a")
    (k / "link").symlink_to("sub/a.txt")
    got = {e.path: e for e in kodata_entries(str(k), allowed_root(str(pkg), "", ko_mode=True), ko_modes=True)}
    assert {p: e.mode for p, e in got.items()} == {
        "var": 0o555, "var/run": 0o555,                       # ko writes the parents with its mode too
        "var/run/ko": 0o555, "var/run/ko/link": 0o555, "var/run/ko/run.sh": 0o555, "var/run/ko/sub": 0o555,
        "var/run/ko/sub/a.txt": 0o555}
    (pkg / "beside.txt").write_text("in the package, outside kodata")
    (k / "out").symlink_to("../beside.txt")
    kodata_entries(str(k), allowed_root(str(pkg)))          # pyko's rule: the package is the bound
    with pytest.raises(BuildError, match="outside .*kodata; copy the files into kodata/, or set "
                                         "PYKO_DATA_PATH_ALLOWED_ROOT"):
        kodata_entries(str(k), allowed_root(str(pkg), "", ko_mode=True), ko_modes=True)   # ko's: kodata is


def test_a_ko_user_without_kodata_gets_kos_layer_of_var_run_ko_alone():
    from pyko.image.kodata import ko_empty_kodata

    assert [(e.path, e.kind, e.mode) for e in ko_empty_kodata()] == [
        ("var", "dir", 0o555), ("var/run", "dir", 0o555), ("var/run/ko", "dir", 0o555)]
